"""QA pass over the commands as a new user meets them: a mistyped path or a malformed
argument ends in one line and a usage or failure exit code, and leaves no file behind."""
import os

from jerklog.cli.main import main


def test_rescore_of_a_mistyped_store_is_an_error_and_creates_nothing(tmp_path, capsys):
    db = str(tmp_path / "typo.sqlite3")
    assert main(["rescore", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "no jerklog store at %s" % db in err
    assert len(err.strip().splitlines()) == 1
    assert not os.path.exists(db)
    assert main(["rescore", "--pending", "--db", db]) == 1
    assert not os.path.exists(db)


def test_config_set_without_an_assignment_is_a_usage_error_not_a_port(capsys):
    assert main(["config", "set", "rate_hz"]) == 2
    err = capsys.readouterr().err
    assert "KEY=VALUE" in err and "'rate_hz'" in err
    assert "no port" not in err
    assert len(err.strip().splitlines()) == 1
