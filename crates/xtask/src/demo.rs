//! `cargo xtask demo` (the main job end to end on the emulator) and `cargo xtask moto`
//! (the emulator in the foreground).

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use crate::*;

pub(crate) fn demo() -> Result<ExitCode> {
    run(cargo().args(["build", "--quiet", "--workspace", "--bins"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?;
    let work = root().join(".trellis-demo");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let state = work.join("web-asg.json");
    // The spec and its boot script are copied, so the demo can ship new versions of the
    // script without touching the example.
    std::fs::create_dir_all(work.join("files")).map_err(|e| e.to_string())?;
    std::fs::copy(root().join("specs/examples/web-asg.yaml"), work.join("web-asg.yaml")).map_err(|e| e.to_string())?;
    let boot = work.join("files/web-boot.sh");
    std::fs::copy(root().join("specs/examples/files/web-boot.sh"), &boot).map_err(|e| e.to_string())?;
    let spec_path = work.join("web-asg.yaml");
    let spec = spec_path.to_str().ok_or("the demo directory is not UTF-8")?;
    let state_arg = state.to_string_lossy().to_string();
    let append = |line: &'static str| {
        let boot = boot.clone();
        move || -> Result<()> {
            let mut text = std::fs::read_to_string(&boot).map_err(|e| e.to_string())?;
            text.push_str(line);
            std::fs::write(&boot, text).map_err(|e| e.to_string())?;
            println!("(appended to files/web-boot.sh: {})", line.trim_end());
            Ok(())
        }
    };
    type Edit<'a> = Option<Box<dyn Fn() -> Result<()> + 'a>>;
    let steps: Vec<(&str, Edit, Vec<&str>, &[i32])> = vec![
        ("Check the spec offline", None, vec!["validate", spec], &[0]),
        ("Preview: everything is new", None, vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"], &[2]),
        ("Create the stack", None, vec!["apply", spec, "--state", &state_arg, "--auto-approve"], &[0]),
        ("Plan again: nothing to do", None, vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"], &[0]),
        (
            "Ship version 2: the plan says how it rolls out",
            Some(Box::new(append("echo \"version 2\"\n"))),
            vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"],
            &[2],
        ),
        (
            "Roll it out: new instances first, healthy before old ones go",
            None,
            vec!["apply", spec, "--state", &state_arg, "--auto-approve"],
            &[0],
        ),
        (
            "Ship a broken version 3: its instances fail their health checks, and it rolls back",
            Some(Box::new(append("# emulator: unhealthy\n"))),
            vec!["apply", spec, "--state", &state_arg, "--auto-approve"],
            &[1],
        ),
        (
            "Version 2 still serves; the change is still to make",
            None,
            vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"],
            &[2],
        ),
        ("What trellis recorded", None, vec!["state", "list", "--state", &state_arg], &[0]),
        ("The load balancer's URL", None, vec!["output", "url", "--state", &state_arg], &[0]),
        ("Tear it all down", None, vec!["destroy", spec, "--state", &state_arg, "--auto-approve"], &[0]),
    ];
    for (title, edit, args, ok) in steps {
        println!("\n\x1b[1m== {title}\x1b[0m");
        if let Some(edit) = edit {
            edit()?;
        }
        println!("$ trellis {}\n", args.join(" "));
        let mut cmd = Command::new(&trellis);
        cmd.current_dir(root()).args(&args).stdin(Stdio::null());
        moto.configure(&mut cmd);
        let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", trellis.display()))?;
        let code = status.code().unwrap_or(-1);
        if !ok.contains(&code) {
            return Err(format!("`trellis {}` exited {code}, expected {ok:?}", args.join(" ")));
        }
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);

    println!("Demo complete: the emulator is stopped and its data gone.");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn serve() -> Result<ExitCode> {
    let mut moto = Moto::start()?;
    println!("export AWS_ENDPOINT_URL={} TRELLIS_TEST_ENDPOINT={} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION={REGION}", moto.url(), moto.url());
    println!("(Ctrl-C stops it)");
    let status = moto.child.wait().map_err(|e| e.to_string())?;
    Err(format!("moto_server stopped: {status}"))
}
