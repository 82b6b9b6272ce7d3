"""A private, multi-AZ VPC with the security groups the database and functions need."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from infrastructure.config import RegionConfig


class RegionalNetwork(Construct):
    """VPC with one private subnet per AZ, one route table, and two security groups.

    Functions reach the database and nothing else; they authenticate with IAM
    database tokens, signed locally, so no service endpoint or internet
    gateway is needed.
    """

    def __init__(
        self, scope: Construct, id_: str, *, region: RegionConfig, database_port: int
    ) -> None:
        super().__init__(scope, id_)
        self.region = region
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=region.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
        )
        self.route_table = RouteTable(self, "private-routes", vpc_id=self.vpc.id)
        self.subnets: list[Subnet] = []
        for index, zone in enumerate(region.availability_zones):
            subnet = Subnet(
                self,
                f"private-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=zone,
                cidr_block=region.subnet_cidr(index),
                map_public_ip_on_launch=False,
            )
            RouteTableAssociation(
                self,
                f"private-{zone}-routes",
                subnet_id=subnet.id,
                route_table_id=self.route_table.id,
            )
            self.subnets.append(subnet)

        self.function_sg = SecurityGroup(
            self, "functions", vpc_id=self.vpc.id, description="DR Lambda functions"
        )
        self.database_sg = SecurityGroup(
            self, "database", vpc_id=self.vpc.id, description="DR Aurora cluster"
        )
        VpcSecurityGroupIngressRule(
            self,
            "database-from-functions",
            security_group_id=self.database_sg.id,
            referenced_security_group_id=self.function_sg.id,
            ip_protocol="tcp",
            from_port=database_port,
            to_port=database_port,
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-database",
            security_group_id=self.function_sg.id,
            referenced_security_group_id=self.database_sg.id,
            ip_protocol="tcp",
            from_port=database_port,
            to_port=database_port,
        )

    @property
    def subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.subnets]
