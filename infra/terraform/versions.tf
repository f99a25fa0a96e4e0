terraform {
  required_version = ">= 1.5.0"

  # Shared state, so CI can read `terraform output -json` for the release helpers. Partial
  # configuration: pass bucket, key and region with -backend-config at `terraform init`.
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first az_count zone names are used (local.azs slices the sorted list), so a newly added zone never changes the subnets.
  state = "available"
}

locals {
  name       = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # The container name is part of the CodeDeploy AppSpec the release helpers write, so it is fixed here
  # and exported as an output rather than derived in two places.
  container_name = "app"

  tags = merge(var.tags, {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}
