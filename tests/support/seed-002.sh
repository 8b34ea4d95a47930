#!/usr/bin/env bash
# Seed 002's stack typed with awscli, as its author did (for `tests/e2e_discover.rs`):
# a VPC, subnets, security groups whose rules name each other, a network ACL, a key
# pair, an IAM role with its instance profile, two receivers and a data-access
# server, a target group with both receivers, an ALB and its listener, a launch
# template and an auto scaling group with a target-tracking policy.
#
#   PYTHON=.venv/bin/python NAME=prefix PUBKEY=path bash seed-002.sh   -> prints the VPC id
set -euo pipefail
# The endpoint is given on each call: awscli v1 sends some services (RDS) to their
# global endpoint otherwise.
aws() { "$PYTHON" -m awscli --endpoint-url "$AWS_ENDPOINT_URL" "$@" --output text; }
N="$NAME"
AMI=ami-0abcdef1234567890

VPC=$(aws ec2 create-vpc --cidr-block 10.40.0.0/16 --tag-specifications "ResourceType=vpc,Tags=[{Key=Name,Value=$N-vpc}]" --query Vpc.VpcId)
SUB_A=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.40.1.0/24 --availability-zone us-east-1a --tag-specifications "ResourceType=subnet,Tags=[{Key=Name,Value=receivers-a}]" --query Subnet.SubnetId)
SUB_B=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.40.2.0/24 --availability-zone us-east-1b --tag-specifications "ResourceType=subnet,Tags=[{Key=Name,Value=receivers-b}]" --query Subnet.SubnetId)
SUB_DATA=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.40.3.0/24 --availability-zone us-east-1a --tag-specifications "ResourceType=subnet,Tags=[{Key=Name,Value=data access}]" --query Subnet.SubnetId)
aws ec2 modify-subnet-attribute --subnet-id "$SUB_A" --map-public-ip-on-launch > /dev/null
IGW=$(aws ec2 create-internet-gateway --query InternetGateway.InternetGatewayId)
aws ec2 attach-internet-gateway --internet-gateway-id "$IGW" --vpc-id "$VPC" > /dev/null
RTB=$(aws ec2 create-route-table --vpc-id "$VPC" --tag-specifications "ResourceType=route-table,Tags=[{Key=Name,Value=public}]" --query RouteTable.RouteTableId)
aws ec2 create-route --route-table-id "$RTB" --destination-cidr-block 0.0.0.0/0 --gateway-id "$IGW" > /dev/null
aws ec2 associate-route-table --route-table-id "$RTB" --subnet-id "$SUB_A" > /dev/null
aws ec2 associate-route-table --route-table-id "$RTB" --subnet-id "$SUB_B" > /dev/null

SG_LB=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name "$N-lb" --description "HTTP from anywhere" --query GroupId)
SG_RX=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name "$N-receivers" --description "8080 from the load balancer" --query GroupId)
SG_DATA=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name "$N-data" --description "8080 from the receivers" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$SG_LB" --protocol tcp --port 80 --cidr 0.0.0.0/0 > /dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_RX" --protocol tcp --port 8080 --source-group "$SG_LB" > /dev/null
aws ec2 authorize-security-group-ingress --group-id "$SG_DATA" --protocol tcp --port 8080 --source-group "$SG_RX" > /dev/null

ACL=$(aws ec2 create-network-acl --vpc-id "$VPC" --tag-specifications "ResourceType=network-acl,Tags=[{Key=Name,Value=data}]" --query NetworkAcl.NetworkAclId)
aws ec2 create-network-acl-entry --network-acl-id "$ACL" --ingress --rule-number 100 --protocol tcp --port-range From=8080,To=8080 --cidr-block 10.40.1.0/24 --rule-action allow > /dev/null
aws ec2 create-network-acl-entry --network-acl-id "$ACL" --egress --rule-number 100 --protocol tcp --port-range From=1024,To=65535 --cidr-block 10.40.1.0/24 --rule-action allow > /dev/null
ASSOC=$("$PYTHON" -m awscli --endpoint-url "$AWS_ENDPOINT_URL" ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$SUB_DATA" --output json \
  | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print([a['NetworkAclAssociationId'] for n in d['NetworkAcls'] for a in n['Associations'] if a['SubnetId']=='$SUB_DATA'][0])")
aws ec2 replace-network-acl-association --association-id "$ASSOC" --network-acl-id "$ACL" > /dev/null

aws ec2 import-key-pair --key-name "$N-servers" --public-key-material "fileb://$PUBKEY" > /dev/null
cat > "$TMPDIR/trust.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
JSON
aws iam create-role --role-name "$N-vpc-access" --assume-role-policy-document "file://$TMPDIR/trust.json" > /dev/null
aws iam attach-role-policy --role-name "$N-vpc-access" --policy-arn arn:aws:iam::aws:policy/AmazonVPCFullAccess > /dev/null
aws iam create-instance-profile --instance-profile-name "$N-vpc-access" > /dev/null
aws iam add-role-to-instance-profile --instance-profile-name "$N-vpc-access" --role-name "$N-vpc-access" > /dev/null

RX=$(aws ec2 run-instances --image-id $AMI --instance-type t2.micro --subnet-id "$SUB_A" --key-name "$N-servers" \
  --security-group-ids "$SG_RX" --count 2 --iam-instance-profile Name="$N-vpc-access" \
  --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=receiver}]" --query "Instances[].InstanceId")
DATA=$(aws ec2 run-instances --image-id $AMI --instance-type t2.micro --subnet-id "$SUB_DATA" --key-name "$N-servers" \
  --security-group-ids "$SG_DATA" --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=data-access}]" --query "Instances[].InstanceId")

TG=$(aws elbv2 create-target-group --name "$N-receivers" --protocol HTTP --port 8080 --vpc-id "$VPC" --query "TargetGroups[0].TargetGroupArn")
for i in $RX; do aws elbv2 register-targets --target-group-arn "$TG" --targets Id="$i" > /dev/null; done
LB=$(aws elbv2 create-load-balancer --name "$N-front" --subnets "$SUB_A" "$SUB_B" --security-groups "$SG_LB" --query "LoadBalancers[0].LoadBalancerArn")
aws elbv2 create-listener --load-balancer-arn "$LB" --protocol HTTP --port 80 --default-actions Type=forward,TargetGroupArn="$TG" > /dev/null

LT=$(aws ec2 create-launch-template --launch-template-name "$N-web" --launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\",\"SecurityGroupIds\":[\"$SG_RX\"]}" --query LaunchTemplate.LaunchTemplateId)
aws autoscaling create-auto-scaling-group --auto-scaling-group-name "$N-web" --launch-template LaunchTemplateId="$LT" \
  --min-size 1 --max-size 3 --desired-capacity 1 --vpc-zone-identifier "$SUB_A,$SUB_B" --target-group-arns "$TG" > /dev/null
aws autoscaling put-scaling-policy --auto-scaling-group-name "$N-web" --policy-name cpu50 --policy-type TargetTrackingScaling \
  --target-tracking-configuration '{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50.0}' > /dev/null
echo "$VPC"
