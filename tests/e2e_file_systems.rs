//! End to end against the moto emulator: EFS. The shared-files example
//! (`specs/examples/shared-files.yaml`) applies: its file system is encrypted with its
//! lifecycle policies, a mount target waits in each zone's subnet behind the NFS group,
//! and the launch template's boot script names its DNS name. It re-plans empty; the
//! throughput mode, the lifecycle and a mount target's groups change in place. The file
//! system is data: destroy is refused until `protect: false` is applied, then goes.

mod support;

use support::{aws, Stack};

const EXAMPLE: &str = include_str!("../specs/examples/shared-files.yaml");

#[tokio::test]
async fn a_file_system_is_shared_changes_in_place_and_keeps_its_files() {
    let stack = Stack::new("file-systems", EXAMPLE);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 9 added"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;
    let efs = aws.efs();
    let fs_id = stack.id("efs_file_system.uploads");
    assert!(fs_id.starts_with("fs-"), "{fs_id}");
    let fs = efs.describe_file_systems().file_system_id(&fs_id).send().await.unwrap();
    let fs = &fs.file_systems()[0];
    assert_eq!(fs.encrypted(), Some(true));
    assert_eq!(fs.life_cycle_state().as_str(), "available");
    assert_eq!(fs.throughput_mode().map(|m| m.as_str()), Some("bursting"));
    let tag = |k: &str| fs.tags().iter().find(|t| t.key() == k).map(|t| t.value().to_string());
    assert_eq!(tag("Name").as_deref(), Some("uploads"));
    assert_eq!(tag("Team").as_deref(), Some("platform"));
    assert_eq!(tag("trellis:address").as_deref(), Some("efs_file_system.uploads"));
    let life = efs.describe_lifecycle_configuration().file_system_id(&fs_id).send().await.unwrap();
    let ia: Vec<_> =
        life.lifecycle_policies().iter().filter_map(|p| p.transition_to_ia()).map(|t| t.as_str()).collect();
    assert_eq!(ia, ["AFTER_30_DAYS"]);

    let nfs = stack.id("security_group.nfs");
    for (address, subnet) in [("efs_mount_target.a", "subnet.app_a"), ("efs_mount_target.b", "subnet.app_b")] {
        let id = stack.id(address);
        let mt = efs.describe_mount_targets().mount_target_id(&id).send().await.unwrap();
        let mt = &mt.mount_targets()[0];
        assert_eq!(mt.file_system_id(), fs_id);
        assert_eq!(mt.subnet_id(), stack.id(subnet));
        assert_eq!(mt.life_cycle_state().as_str(), "available", "{address} was waited on");
        let sgs = efs.describe_mount_target_security_groups().mount_target_id(&id).send().await.unwrap();
        assert_eq!(sgs.security_groups(), [nfs.clone()]);
    }
    // The boot script mounts it by its DNS name.
    let lt = aws.ec2().describe_launch_template_versions().launch_template_id(stack.id("launch_template.web"));
    let lt = lt.versions("$Latest").send().await.unwrap();
    let data = lt.launch_template_versions()[0].launch_template_data().unwrap().user_data().unwrap().to_string();
    let script = String::from_utf8(base64_decode(&data)).unwrap();
    assert!(script.contains(&format!("{fs_id}.efs.us-east-1.amazonaws.com:/ ")), "{script}");

    let again = stack.plan();
    assert_eq!(again.code, 0, "re-plans empty:\n{}\n{}", again.stdout, again.stderr);

    // In place: the throughput, the lifecycle, a mount target's groups.
    let changed = EXAMPLE
        .replace("throughput_mode: bursting", "throughput_mode: elastic")
        .replace("transition_to_ia: AFTER_30_DAYS", "transition_to_ia: AFTER_90_DAYS")
        .replace(
            "    subnet_id: ${subnet.app_b}\n    security_groups: [\"${security_group.nfs}\"]\n",
            "    subnet_id: ${subnet.app_b}\n    security_groups: [\"${security_group.nfs}\", \"${security_group.web}\"]\n",
        );
    stack.write_spec(&changed);
    let plan = stack.plan();
    assert!(plan.stdout.contains("efs_file_system.uploads will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("efs_mount_target.b will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    stack.apply();
    let fs = efs.describe_file_systems().file_system_id(&fs_id).send().await.unwrap();
    assert_eq!(fs.file_systems()[0].throughput_mode().map(|m| m.as_str()), Some("elastic"));
    let life = efs.describe_lifecycle_configuration().file_system_id(&fs_id).send().await.unwrap();
    let ia: Vec<_> =
        life.lifecycle_policies().iter().filter_map(|p| p.transition_to_ia()).map(|t| t.as_str()).collect();
    assert_eq!(ia, ["AFTER_90_DAYS"]);
    let sgs = efs.describe_mount_target_security_groups().mount_target_id(stack.id("efs_mount_target.b")).send().await;
    assert_eq!(sgs.unwrap().security_groups().len(), 2);
    assert_eq!(stack.plan().code, 0, "re-plans empty after the change");

    // The file system is data.
    let refused = stack.run(&["destroy", "{spec}", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("DATA LOSS"), "{}", refused.stdout);
    assert!(refused.stderr.contains("`protect: false`"), "{}", refused.stderr);
    assert_eq!(efs.describe_file_systems().file_system_id(&fs_id).send().await.unwrap().file_systems().len(), 1);

    // Consent in the spec, applied first; then it goes, after its mount targets.
    stack.write_spec(&changed.replace("    encrypted: true\n", "    encrypted: true\n    protect: false\n"));
    stack.apply();
    stack.destroy_and_check_clean();
    assert!(efs.describe_file_systems().file_system_id(&fs_id).send().await.is_err(), "the file system is gone");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
