-- The app's database role: only what the app needs, and nothing on the ledger.
--
-- Run once, as the master user (the migration role: it owns the schema, every table the
-- migrations create, and the expandcontract ledger schema), e.g. from a host in
-- db_client_security_group_ids:
--   psql "$MASTER_URL" -v ON_ERROR_STOP=1 -v app_user=app -f infra/sql/app_role.sql
-- The app logs in with IAM authentication (rds_iam): there is no password to rotate.

SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
-- rds_iam exists only on RDS (elsewhere, e.g. a local rehearsal, the grant is skipped).
SELECT format('GRANT rds_iam TO %I', :'app_user')
WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') \gexec

-- No DDL for anybody but the owner; the app reads and writes rows, nothing more.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_user";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_user";

-- Tables and sequences the migration role creates later get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_user";
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_user";
