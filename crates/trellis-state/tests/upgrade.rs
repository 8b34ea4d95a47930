//! A state written by an earlier trellis, whose attribute names were Terraform's and
//! whose health check and listener action were single mappings, is read under the
//! awscli names and shapes of today, so its first plan shows no drift.

use trellis_core::Value;
use trellis_state::parse_state;

const OLD: &str = r#"{
  "format_version": 1,
  "stack": "web",
  "lineage": "l-1",
  "serial": 7,
  "resources": [
    {
      "address": "db_instance.main",
      "id": "web-main",
      "attributes": {
        "identifier": "web-main",
        "instance_class": "db.t3.micro",
        "parameter_group_name": "web-tuned",
        "protect": true
      },
      "dependencies": []
    },
    {
      "address": "db_instance.replica",
      "id": "web-replica",
      "attributes": { "replicate_source": "web-main" },
      "dependencies": ["db_instance.main"]
    },
    {
      "address": "db_subnet_group.db",
      "id": "web-db",
      "attributes": { "name": "web-db", "description": "private", "subnet_ids": ["subnet-1"] },
      "dependencies": []
    },
    {
      "address": "target_group.web",
      "id": "arn:tg",
      "attributes": { "name": "web-web", "health_check": { "path": "/health", "interval": 15, "matcher": "200" } },
      "dependencies": []
    },
    {
      "address": "listener.http",
      "id": "arn:l",
      "attributes": {
        "default_action": { "type": "fixed-response", "fixed_response": { "status_code": "404" } }
      },
      "dependencies": []
    },
    {
      "address": "load_balancer.web",
      "id": "arn:lb",
      "attributes": { "subnet_ids": ["subnet-1", "subnet-2"], "security_group_ids": ["sg-1"] },
      "dependencies": []
    },
    {
      "address": "autoscaling_group.web",
      "id": "web-web",
      "attributes": { "name": "web-web" },
      "dependencies": []
    },
    {
      "address": "scaling_policy.cpu",
      "id": "arn:p",
      "attributes": { "autoscaling_group_name": "web-web" },
      "dependencies": []
    }
  ],
  "outputs": {}
}"#;

#[test]
fn an_earlier_trellis_state_is_read_under_the_awscli_names() {
    let state = parse_state(OLD, "state/web.json", "web").unwrap();
    let attrs = |a: &str| state.resources.iter().find(|r| r.address.to_string() == a).unwrap().attributes.clone();
    let names = |a: &str| attrs(a).keys().cloned().collect::<Vec<_>>();

    let db = attrs("db_instance.main");
    assert_eq!(db["db_instance_identifier"], Value::str("web-main"));
    assert_eq!(db["db_instance_class"], Value::str("db.t3.micro"));
    assert_eq!(db["db_parameter_group_name"], Value::str("web-tuned"));
    assert_eq!(db["protect"], Value::Bool(true), "trellis's settings are kept");
    assert_eq!(names("db_instance.main").len(), 4, "nothing left under an old name: {db:?}");
    assert_eq!(names("db_instance.replica"), ["source_db_instance_identifier"]);
    assert_eq!(names("db_subnet_group.db"), ["db_subnet_group_description", "db_subnet_group_name", "subnet_ids"]);
    assert_eq!(names("target_group.web"), ["health_check_interval_seconds", "health_check_path", "matcher", "name"]);
    assert_eq!(attrs("target_group.web")["health_check_interval_seconds"], Value::Int(15));
    let Value::List(actions) = &attrs("listener.http")["default_actions"] else {
        panic!("{:?}", attrs("listener.http"))
    };
    let action = actions[0].as_map().unwrap();
    assert_eq!(action.keys().collect::<Vec<_>>(), ["fixed_response_config", "type"]);
    assert_eq!(names("load_balancer.web"), ["security_groups", "subnets"]);
    assert_eq!(names("autoscaling_group.web"), ["auto_scaling_group_name"]);
    assert_eq!(names("scaling_policy.cpu"), ["auto_scaling_group_name"]);
}

#[test]
fn a_state_of_today_is_read_as_it_is() {
    let new = OLD
        .replace("\"identifier\"", "\"db_instance_identifier\"")
        .replace("\"instance_class\"", "\"db_instance_class\"")
        .replace("\"parameter_group_name\"", "\"db_parameter_group_name\"");
    let state = parse_state(&new, "state/web.json", "web").unwrap();
    let db = &state.resources.iter().find(|r| r.address.to_string() == "db_instance.main").unwrap().attributes;
    assert_eq!(
        db.keys().collect::<Vec<_>>(),
        ["db_instance_class", "db_instance_identifier", "db_parameter_group_name", "protect"]
    );
}
