"""The CLI end to end on a tiny config: run, resume, show, report."""

from gdlab.cli.main import main

TINY = ["logistic-max-margin", "--seeds", "2", "--set", "steps=300", "--set", "checkpoints=10,100,300",
        "--no-progress"]


def test_run_resume_show_report(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    assert main(["run", *TINY, "--store", store]) == 0
    out = capsys.readouterr()
    assert "logistic-max-margin" in out.out and "cos(w_t, w_svm)" in out.out
    assert main(["run", *TINY, "--store", store]) == 0
    assert "2 reused" in capsys.readouterr().err  # finished runs are not redone
    assert main(["show", "logistic-max-margin", "--store", store]) == 0
    assert "seed 1" in capsys.readouterr().out
    assert main(["report", "--store", store, "--out", str(tmp_path / "rep")]) == 0
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "logistic-max-margin" in page and "figures/logistic-max-margin.png" in page
    assert (tmp_path / "rep" / "figures" / "logistic-max-margin.png").stat().st_size > 5000


def test_list(capsys):
    assert main(["list"]) == 0
    assert "logistic-max-margin" in capsys.readouterr().out
    assert main(["list", "--kind", "optimizer"]) == 0
    assert "adamw" in capsys.readouterr().out



def test_output_into_a_closed_pipe_stops_quietly():
    """``gdlab list | head -1``: the reader leaves early; no traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "gdlab.cli.main", "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with proc:
        proc.stdout.close()  # the reader is gone before the first write
        err = proc.stderr.read().decode()
        status = proc.wait()
    assert status == 141 and "Traceback" not in err, err
