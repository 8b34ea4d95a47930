//! The test emulator itself: it refuses what AWS's API models refuse (moto accepts
//! it), so a request trellis gets wrong fails here as it would on AWS
//! (`crates/xtask/models.py`), and it accepts what AWS's reference allows where a model
//! is narrower.

mod support;

use support::aws;

#[tokio::test]
async fn the_emulator_refuses_what_aws_s_models_refuse() {
    let aws = aws().await;
    let vpc = aws.ec2().create_vpc().cidr_block("10.77.0.0/16").send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    // A range the model states: an interval of 400 s.
    let e = aws
        .elb()
        .create_target_group()
        .name("emulator-check")
        .protocol("HTTP".into())
        .port(80)
        .vpc_id(&vpc)
        .health_check_interval_seconds(400)
        .send()
        .await
        .expect_err("AWS refuses an interval of 400 s");
    let text = format!("{:?}", e);
    assert!(text.contains("HealthCheckIntervalSeconds: 400 is above 300"), "{text}");
    // A rule AWS states in words: a group description in ASCII only.
    let e = aws
        .ec2()
        .create_security_group()
        .group_name("emulator-check")
        .description("café")
        .vpc_id(&vpc)
        .send()
        .await
        .expect_err("AWS refuses a description with non-ASCII characters");
    assert!(format!("{e:?}").contains("has characters AWS does not take"), "{e:?}");
    // Where the model is narrower than AWS's reference, AWS is followed.
    let attrs = aws
        .ec2()
        .describe_account_attributes()
        .attribute_names("vpc-max-elastic-ips".into())
        .send()
        .await
        .expect("the reference documents vpc-max-elastic-ips");
    assert!(!attrs.account_attributes().is_empty());
    aws.ec2().delete_vpc().vpc_id(&vpc).send().await.unwrap();
}
