//! The plan's rollout section: a group's new launch template version says how its
//! instances will be replaced (batches, health gates, alarms, what a failure does), in
//! text, JSON and markdown, before anyone approves it.

mod support;

use support::{addr, converged, run};
use trellis_plan::{render, render_markdown, Action, RenderOptions};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1a
  launch_template.web:
    image_id: ami-1
    instance_type: t3.micro
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
  metric_alarm.errors:
    namespace: AWS/ApplicationELB
    metric_name: HTTPCode_Target_5XX_Count
    statistic: Sum
    period: 60
    evaluation_periods: 1
    threshold: 5
    comparison_operator: GreaterThanThreshold
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 4
    max_size: 8
    vpc_zone_identifier: ["${subnet.a}"]
    target_group_arns: ["${target_group.web}"]
    health_check_grace_period: 90
"#;

fn with_group(extra: &str) -> String {
    SPEC.replace("    health_check_grace_period: 90\n", &format!("    health_check_grace_period: 90\n{extra}"))
}

fn new_version(spec: &str) -> trellis_plan::Plan {
    let st = converged(spec);
    run(&spec.replace("instance_type: t3.micro", "instance_type: t3.small"), Some(&st))
}

#[test]
fn the_default_rollout_keeps_full_capacity_and_rolls_back() {
    let p = new_version(&SPEC.replace("    min_size: 4\n", "    min_size: 4\n    desired_capacity: 4\n"));
    let asg = p.change(&addr("autoscaling_group.web")).unwrap();
    assert_eq!(asg.action, Action::Update);
    let r = asg.rollout.as_ref().expect("a rollout");
    assert_eq!((r.instances, r.batch_size, r.batches, r.launch_first), (Some(4), Some(1), Some(4), true));
    assert_eq!(r.min_healthy_instances, Some(4));
    assert_eq!((r.warmup_seconds, r.warmup_from.as_deref()), (Some(90), Some("health_check_grace_period")));
    assert_eq!(r.health_checked_in, 1);
    assert_eq!(r.on_failure, "rolls back to launch template version 1");
    let text = render(&p, RenderOptions::default());
    for line in [
        "  # rollout: 4 instances replaced in 4 batches of 1, new ones launched first\n",
        "  #   keeps 100 % to 110 % of capacity, never fewer than 4 healthy\n",
        "  #   each batch: warmup 90 s (the group's `health_check_grace_period`), then healthy in its target group\n",
        "  #   on failure: rolls back to launch template version 1\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    let md = render_markdown(&p);
    assert!(md.contains("> **Rollout of `autoscaling_group.web`:** 4 instances replaced in 4 batches of 1"), "{md}");
    let j = trellis_plan::to_json(&p);
    let change =
        j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "autoscaling_group.web").unwrap();
    assert_eq!(change["rollout"]["batches"], 4);
    assert_eq!(change["rollout"]["rollback_to"], 1);
}

#[test]
fn the_spec_shapes_the_rollout() {
    let spec = with_group(
        "    desired_capacity: 6\n    min_healthy_percentage: 50\n    max_healthy_percentage: 100\n    instance_warmup: 30\n    checkpoint_percentages: [50, 100]\n    checkpoint_delay: 600\n    bake_time: 300\n    auto_rollback: false\n    alarms: [\"${metric_alarm.errors}\", \"team-pager\"]\n",
    );
    let p = new_version(&spec);
    let r = p.change(&addr("autoscaling_group.web")).unwrap().rollout.clone().unwrap();
    assert_eq!((r.instances, r.batch_size, r.batches, r.launch_first), (Some(6), Some(3), Some(2), false));
    assert_eq!(r.alarms, ["metric_alarm.errors", "team-pager"]);
    let text = render(&p, RenderOptions::default());
    for line in [
        "# rollout: 6 instances replaced in 2 batches of 3, old ones terminated first",
        "#   keeps 50 % to 100 % of capacity, never fewer than 3 healthy",
        "#   each batch: warmup 30 s, then healthy in its target group",
        "#   checkpoints at 50 %, 100 %, each a pause of 600 s",
        "#   bake time 300 s after the last batch",
        "#   stopped by an alarm in ALARM: metric_alarm.errors, team-pager",
        "#   on failure: stops where it is (`auto_rollback: false`): instances already replaced keep the new launch template version",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[test]
fn only_a_new_template_sets_off_a_rollout() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("max_size: 8", "max_size: 9"), Some(&st));
    let asg = p.change(&addr("autoscaling_group.web")).unwrap();
    assert_eq!(asg.action, Action::Update);
    assert!(asg.rollout.is_none());
    // The rollout's settings are trellis's: changed alone, they roll nothing.
    let p = run(&with_group("    instance_warmup: 30\n"), Some(&st));
    assert!(p.change(&addr("autoscaling_group.web")).unwrap().rollout.is_none());
}

#[test]
fn a_count_only_apply_can_tell_is_said_so() {
    // A new group whose template is new too: a create, no rollout.
    let p = run(SPEC, None);
    assert!(p.changes.iter().all(|c| c.rollout.is_none()));
    // Without `desired_capacity`, the count running now is the one rolled.
    let st = converged(SPEC);
    let p = run(&SPEC.replace("instance_type: t3.micro", "instance_type: t3.small"), Some(&st));
    let r = p.change(&addr("autoscaling_group.web")).unwrap().rollout.clone().unwrap();
    assert_eq!(r.instances, Some(1), "the converged group runs 1");
}
