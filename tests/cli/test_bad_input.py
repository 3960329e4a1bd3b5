"""Bad input exits with status 2 and one clear line, never a traceback."""

import subprocess
import sys

import pytest

from gdlab.cli.main import main


@pytest.mark.parametrize("argv,match", [
    (["run", "logistic-max-margn"], "Did you mean 'logistic-max-margin'"),
    (["run", "logistic-max-margin", "--set", "stepz=10"], "unknown override key 'stepz'.*Valid keys: n, d"),
    (["run", "logistic-max-margin", "--set", "steps=ten"], "steps expects int"),
    (["run", "logistic-max-margin", "--set", "lr=-1"], "lr must be positive"),
    (["run", "logistic-max-margin", "--set", "steps"], "not key=value"),
    (["run", "logistic-max-margin", "--device", "tpu"], "device must be cpu or cuda"),
    (["show", "no-such-claim"], "unknown phenomenon"),
    (["run", "all", "--set", "steps=1"], "need explicit phenomenon names"),
])
def test_bad_input_exit_2(argv, match, capsys, tmp_path):
    code = main([*argv, "--store", str(tmp_path / "s.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    import re

    assert re.search(match, err), err


def test_bad_store_paths(capsys, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 200)
    assert main(["report", "--store", str(junk)]) == 2
    assert "not a gdlab store" in capsys.readouterr().err
    assert main(["report", "--store", str(tmp_path / "nope" / "x.db")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "x", "--seeds", "0"], ["run", "x", "--jobs", "-1"], ["frobnicate"]])
def test_argparse_errors_exit_2(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_console_script_exit_code_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gdlab.cli.main", "run", "nonsense", "--store",
                           str(tmp_path / "s.db")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "unknown phenomenon 'nonsense'" in proc.stderr
