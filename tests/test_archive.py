"""``colorizer colorize --engine ray``: the CLI's results on Ray's local runner (offline).

Byte-identical PNGs and the same summary as ``--engine local`` for the same folder, a rerun that
redoes only the missing outputs, list files of paths and URIs, and a clear error without Ray.
"""

import logging
import sys
from pathlib import Path

import pytest
from PIL import Image

from colorizer.archive import plan_archive, read_list, uri_name
from colorizer.cli import main
from conftest import colourful_image


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    from colorizer import create_model

    return create_model("cnn", image_size=32, width=0.125).save_pretrained(
        tmp_path_factory.mktemp("m") / "model")


@pytest.fixture(scope="module")
def ray_here():
    """Ray on this machine, started once for the module (the CLI leaves a running Ray be)."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install "
                                            "'bw-colorizer[ray]' (requirements-dev.txt has it)")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    yield ray
    ray.shutdown()


def _colorize(inputs, out, model_folder, *extra):
    return main(["colorize", *map(str, inputs), "-o", str(out), "--model", str(model_folder),
                 "--quiet", *extra])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.slow  # Ray workers loading TensorFlow: about 20 s on 2 cores
def test_the_cli_results_on_ray(ray_here, model_folder, image_folder, tmp_path, capsys):
    """Same PNG bytes, names and summary as --engine local; bad files at the end; a rerun
    after an interruption writes only the missing outputs."""
    nested = image_folder / "nested" / "deeper"
    nested.mkdir(parents=True)
    Image.fromarray(colourful_image(7, (123, 77))).convert("L").save(nested / "old.tif")
    local, on_ray = tmp_path / "local", tmp_path / "ray"

    assert _colorize([image_folder], local, model_folder) == 1
    expected = capsys.readouterr().out
    assert _colorize([image_folder], on_ray, model_folder, "--engine", "ray",
                     "--workers", "2") == 1
    printed = capsys.readouterr().out
    assert printed == expected.replace(str(local), str(on_ray))
    assert "wrote 14 image(s)" in printed and "failed 2 of 16 input(s)" in printed
    assert "not_an_image.jpg: not a readable image" in printed
    assert "truncated.jpg: not a readable image" in printed
    results = _files(on_ray)
    assert len(results) == 14 and "nested/deeper/old.png" in results
    assert results == _files(local)  # byte for byte

    # Interrupted: three outputs missing, one of them with a killed writer's temp file.
    gone = ["colour_03.png", "gray.png", "nested/deeper/old.png"]
    for name in gone:
        (on_ray / name).unlink()
    (on_ray / ".colour_03.partial-0123abcd.png").write_bytes(b"\x89PNG half")
    kept = {p: p.stat().st_mtime_ns for p in on_ray.rglob("*.png") if p.name[0] != "."}
    assert _colorize([image_folder], on_ray, model_folder, "--engine", "ray") == 1
    printed = capsys.readouterr().out
    assert "wrote 3 image(s)" in printed and "left 11 whose output exists" in printed
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # finished files not redone
    assert _files(on_ray) == results  # the temp file removed, the three back, the same


@pytest.mark.slow  # Ray workers loading TensorFlow
def test_a_list_of_paths_and_uris(ray_here, model_folder, tmp_path, capsys):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    for i, name in enumerate(["a.jpg", "b c.png", "sub/d.jpg", "sub/e.png"]):
        Image.fromarray(colourful_image(i)).save(photos / name)
    listing = tmp_path / "archive.txt"
    listing.write_text("# scans\nphotos/a.jpg\n\n"
                       f"file://{photos}/b%20c.png\n"  # a URI: read through pyarrow
                       f"{photos / 'sub'}\n"            # a folder: every photo in it
                       f"file://{photos}/missing.jpg\n")
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    assert _colorize([photos / "a.jpg", photos / "b c.png", photos / "sub"], local,
                     model_folder) == 0
    capsys.readouterr()
    assert _colorize([listing], on_ray, model_folder, "--engine", "ray") == 1
    printed = capsys.readouterr().out
    assert "wrote 4 image(s)" in printed and "failed 1 of 5 input(s)" in printed
    assert f"file://{photos}/missing.jpg: cannot be read" in printed
    assert _files(on_ray) == _files(local)
    assert sorted(_files(on_ray)) == ["a.png", "b c.png", "d.png", "e.png"]


def test_a_worker_answers_for_each_photo(ray_here, model_folder, image_folder, tmp_path):
    """One actor's batch, called here: written, failed (why), or existed (an output that
    appeared after planning, e.g. a batch Ray retried after its worker died: not redone)."""
    import numpy as np

    from colorizer.archive import ColorizeWorker

    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"written by a worker that died")
    worker = ColorizeWorker(str(model_folder), {"vividness": 50}, overwrite=False)
    sources = [image_folder / "colour_00.png", image_folder / "colour_01.jpg",
               image_folder / "truncated.jpg"]
    answer = worker({"index": np.arange(3), "source": np.array([str(p) for p in sources]),
                     "target": np.array([str(out / n) for n in ("a.png", "b.png", "c.png")])})
    assert list(answer["status"]) == ["written", "existed", "failed"]
    assert answer["error"][:2] == ["", ""] and "truncated.jpg" in answer["error"][2]
    assert (out / "b.png").read_bytes() == b"written by a worker that died"
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_planning_a_list(tmp_path):
    """Without Ray: what a list file names, and the names its URIs' results get."""
    (tmp_path / "x.jpg").write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# a comment\n x.jpg \n\ns3://bucket/scans/y%201.tif\ngs://b/x.jpg\n")
    assert read_list(listing) == [str(tmp_path / "x.jpg"), "s3://bucket/scans/y%201.tif",
                                  "gs://b/x.jpg"]
    assert uri_name("s3://bucket/scans/y%201.tif") == "y 1.tif"
    out = tmp_path / "out"
    out.mkdir()
    (out / "y 1.png").write_bytes(b"done before")
    plan = plan_archive([listing], out)
    assert [(str(s), t.name) for s, t in plan.jobs] == [(str(tmp_path / "x.jpg"), "x.png")]
    assert [str(s) for s, _ in plan.done] == ["s3://bucket/scans/y%201.tif"]
    assert [(str(s), why) for s, why in plan.failed] == [
        ("gs://b/x.jpg", f"another input already writes {out / 'x.png'}")]


def test_without_ray_the_engine_is_refused_before_any_work(model_folder, tmp_path, capsys,
                                                           monkeypatch):
    Image.fromarray(colourful_image(1)).save(tmp_path / "a.png")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray: ImportError
    assert _colorize([tmp_path / "a.png"], tmp_path / "out", model_folder,
                     "--engine", "ray") == 2
    assert "pip install 'bw-colorizer[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert _colorize([tmp_path / "a.png"], tmp_path / "out", model_folder, "--workers", "2") == 2
    assert "--workers is a positive number of workers of --engine ray" in capsys.readouterr().err
