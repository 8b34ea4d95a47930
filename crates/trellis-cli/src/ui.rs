//! Where and how the CLI writes: colour only on a terminal, errors on stderr.

use std::io::{IsTerminal, Write};

pub struct Ui {
    pub color_out: bool,
    pub color_err: bool,
}

impl Ui {
    pub fn new(no_color: bool) -> Ui {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ui {
            color_out: allowed && std::io::stdout().is_terminal(),
            color_err: allowed && std::io::stderr().is_terminal(),
        }
    }

    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }

    /// A plan as a person reads it, printed a resource at a time as it is rendered.
    pub fn plan(&self, plan: &trellis_plan::Plan) {
        let mut o = std::io::BufWriter::new(std::io::stdout().lock());
        // A closed stdout (`| head`) ends the printing, as for any other output.
        let _ = trellis_plan::render_to(plan, trellis_plan::RenderOptions { color: self.color_out }, &mut o);
    }

    /// A value as pretty JSON and a newline, written as it is serialized.
    pub fn json(&self, value: &impl serde::Serialize) {
        let mut o = std::io::BufWriter::new(std::io::stdout().lock());
        let _ = serde_json::to_writer_pretty(&mut o, value).map_err(std::io::Error::from).and_then(|()| {
            o.write_all(b"\n")?;
            o.flush()
        });
    }

    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    pub fn note(&self, text: &str) {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "{text}");
    }

    pub fn error(&self, e: &trellis_ops::Error) {
        let mut err = std::io::stderr().lock();
        match e {
            trellis_ops::Error::Spec(d) => {
                let _ = err.write_all(d.render(self.color_err).as_bytes());
            }
            other => {
                let label = if self.color_err { "\x1b[1;31merror\x1b[0m" } else { "error" };
                let _ = writeln!(err, "{label}: {other}");
            }
        }
    }

    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color_out {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}
