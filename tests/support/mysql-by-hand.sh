#!/usr/bin/env bash
# A MySQL database typed with awscli (for `tests/e2e_discover.rs`), the way seed 000
# sets one up: a VPC with two private subnets in two zones, a security group for the
# app servers and one that admits 3306 from them, a DB subnet group, a parameter group
# that raises max_allowed_packet, and the database.
#
#   PYTHON=.venv/bin/python NAME=prefix DB_PASSWORD=... bash mysql-by-hand.sh   -> prints the VPC id
set -euo pipefail
# The endpoint is given on each call: awscli v1 sends some services (RDS) to their
# global endpoint otherwise.
aws() { "$PYTHON" -m awscli --endpoint-url "$AWS_ENDPOINT_URL" "$@" --output text; }
N="$NAME"

VPC=$(aws ec2 create-vpc --cidr-block 10.41.0.0/16 --tag-specifications "ResourceType=vpc,Tags=[{Key=Name,Value=$N}]" --query Vpc.VpcId)
SUB_A=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.41.1.0/24 --availability-zone us-east-1a --tag-specifications "ResourceType=subnet,Tags=[{Key=Name,Value=db-a}]" --query Subnet.SubnetId)
SUB_B=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.41.2.0/24 --availability-zone us-east-1b --tag-specifications "ResourceType=subnet,Tags=[{Key=Name,Value=db-b}]" --query Subnet.SubnetId)
SG_APP=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name "$N-app" --description "app servers" --query GroupId)
SG_DB=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name "$N-db" --description "MySQL from the app servers" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$SG_DB" --protocol tcp --port 3306 --source-group "$SG_APP" > /dev/null
aws rds create-db-subnet-group --db-subnet-group-name "$N-db" --db-subnet-group-description "private subnets" --subnet-ids "$SUB_A" "$SUB_B" > /dev/null
aws rds create-db-parameter-group --db-parameter-group-name "$N-mysql" --db-parameter-group-family mysql8.0 --description "bigger packets" > /dev/null
aws rds modify-db-parameter-group --db-parameter-group-name "$N-mysql" --parameters "ParameterName=max_allowed_packet,ParameterValue=67108864,ApplyMethod=immediate" > /dev/null
aws rds create-db-instance --db-instance-identifier "$N-db" --engine mysql --engine-version 8.0.35 \
  --db-instance-class db.t3.micro --allocated-storage 20 --master-username admin --master-user-password "$DB_PASSWORD" \
  --db-subnet-group-name "$N-db" --vpc-security-group-ids "$SG_DB" --db-parameter-group-name "$N-mysql" \
  --backup-retention-period 1 --no-publicly-accessible > /dev/null
echo "$VPC"
