"""The operator command's token issuing, without services."""
import jwt
from click.testing import CliRunner

from pitlane.cli import main
from shared import config


def claims(token):
    return jwt.decode(token.strip(), config.jwt_secret(), algorithms=["HS256"])


def test_token_create_issues_a_scoped_signed_token():
    result = CliRunner().invoke(main, ["token", "create", "--role", "advisor", "--branch", "N1", "--ttl", "2"])
    assert result.exit_code == 0, result.output
    token = claims(result.output)
    assert token["role"] == "advisor" and token["branch_id"] == "N1" and token["sub"] == "advisor@N1"
    assert token["exp"] - token["iat"] == 2 * 3600


def test_a_region_for_a_parts_coordinator_and_nothing_for_operations():
    coordinator = claims(CliRunner().invoke(main, ["token", "create", "--role", "parts_coordinator",
                                                   "--region", "NORTH"]).output)
    assert coordinator["region_id"] == "NORTH" and "branch_id" not in coordinator
    operations = claims(CliRunner().invoke(main, ["token", "create", "--role", "operations"]).output)
    assert operations["role"] == "operations" and "branch_id" not in operations and "region_id" not in operations


def test_a_branch_role_without_a_branch_is_a_usage_error():
    result = CliRunner().invoke(main, ["token", "create", "--role", "technician"])
    assert result.exit_code == 2 and "needs --branch" in result.output
    result = CliRunner().invoke(main, ["token", "create", "--role", "parts_coordinator"])
    assert result.exit_code == 2 and "needs --region" in result.output
    result = CliRunner().invoke(main, ["token", "create", "--role", "mechanic"])
    assert result.exit_code == 2
