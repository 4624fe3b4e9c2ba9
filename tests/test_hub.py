import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from colorizer import create_model, from_pretrained


def test_round_trip_gives_identical_predictions(tmp_path):
    model = create_model("cnn", image_size=32, width=0.125)
    folder = model.save_pretrained(tmp_path / "cnn")
    config = json.loads((folder / "config.json").read_text())
    assert config["architecture"] == "cnn"
    assert config["args"] == {"image_size": 32, "width": 0.125, "head": "regression"}
    assert config["normalization"] == {"ab_scale": 110.0, "l_center": 50.0, "l_scale": 100.0}
    loaded = from_pretrained(folder)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(model.network(x)), np.asarray(loaded.network(x)))


@pytest.mark.slow
def test_xception_folder_loads_without_downloading(tmp_path):
    model = create_model("xception_decoder", image_size=96, weights=None)
    model.save_pretrained(tmp_path / "x")
    config = json.loads((tmp_path / "x" / "config.json").read_text())
    config["args"]["weights"] = "imagenet"  # as a folder trained online would record it
    (tmp_path / "x" / "config.json").write_text(json.dumps(config))
    assert from_pretrained(tmp_path / "x").count_params() == model.count_params()


def test_corrupted_or_mismatched_weights_name_the_file(tmp_path):
    create_model("autoencoder", image_size=32).save_pretrained(tmp_path / "a")
    (tmp_path / "a" / "model.weights.h5").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="model.weights.h5"):
        from_pretrained(tmp_path / "a")

    create_model("autoencoder", image_size=32).save_pretrained(tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    config["args"]["image_size"] = 64
    (tmp_path / "b" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="model.weights.h5 does not fit the architecture in "
                                         "config.json") as caught:
        from_pretrained(tmp_path / "b")
    assert "\n" not in str(caught.value)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        from_pretrained(tmp_path)


# --- the zoo, model cards and publishing -------------------------------------------------------

import colorizer  # noqa: E402
from colorizer.hub import HubError, push_folder, resolve  # noqa: E402
from colorizer.training.export import export_weights  # noqa: E402


def _evaluation(ab_mse=150.0):
    scores = {"ab_mse": ab_mse, "psnr": 24.0, "ssim": 0.93, "colourfulness": 20.0,
              "delta_cf": 15.0, "auc": 90.0}
    return {"data": "flickr8k", "split": "val", "images": 10, "image_size": 32,
            "original_colourfulness": 35.0,
            "results": {"model": scores, "gray": dict(scores, ab_mse=232.0),
                        "mean": dict(scores, ab_mse=209.0)}}


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A weights/ folder with two exported models, set as the zoo (with an empty manifest)."""
    from colorizer.training.loop import TrainConfig
    from colorizer.hub.zoo import write_manifest

    monkeypatch.setenv("COLORIZER_ZOO", str(write_manifest({"owner": None, "models": []},
                                                           tmp_path / "zoo.json")))

    weights = tmp_path / "weights"
    for name, arch, score in (("autoencoder.tiny_32", "autoencoder", 180.0),
                              ("cnn.tiny_32", "cnn", 150.0)):
        run = tmp_path / f"run-{name}"
        args = {"width": 0.125} if arch == "cnn" else {}
        config = TrainConfig(model=arch, data="d", image_size=32, model_args=args).resolved()
        create_model(arch, image_size=32, **args).save_pretrained(run / "model",
                        extra={"epoch": 1, "training": {"model": arch}, "machine": "test box"})
        (run / "history.csv").write_text("epoch,loss,epoch_seconds\n0,1.0,12.5\n1,0.9,12.5\n")
        evaluation = run / "eval.json"
        evaluation.write_text(json.dumps(_evaluation(score)))
        export_weights(run, weights / name, evaluation=evaluation, description=f"tiny {arch}")
        assert config.model == arch
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    return weights


def test_list_pretrained_reads_the_weight_folders(zoo):
    entries = colorizer.list_pretrained()
    assert [e.name for e in entries] == ["autoencoder.tiny_32", "cnn.tiny_32"]
    assert entries[1].metrics["val_ab_mse"] == 150.0 and entries[1].metrics["gray_ab_mse"] == 232.0
    assert "val ab MSE 150.0 vs gray 232.0" in entries[1].summary()
    from colorizer.hub.zoo import default_pretrained

    assert default_pretrained().name == "cnn.tiny_32"


def test_exported_folder_has_everything_and_a_card(zoo):
    folder = zoo / "cnn.tiny_32"
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.weights.h5",
                                                  "metrics.json", "README.md"}
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["training"]["wall_time_s"] == 25.0 and metrics["training"]["epochs_run"] == 2
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "keras"
    assert card.data.eval_results[0].metric_type == "ab_mse"
    assert card.data.eval_results[0].metric_value == 150.0
    assert "from_pretrained(\"cnn.tiny_32\")" in card.text and "| gray |" in card.text
    assert "Limitations" in card.text


def test_export_of_a_warm_started_run_counts_the_run_it_started_from(tmp_path):
    first, second = tmp_path / "frozen", tmp_path / "fine-tuned"
    model = create_model("autoencoder", image_size=32)
    for run, history, training in (
            (first, "0,1.0,100.0\n1,0.9,100.0\n", {"model": "autoencoder"}),
            (second, "0,0.8,50.5\n", {"model": "autoencoder", "init_from": str(first)})):
        model.save_pretrained(run / "model", extra={"epoch": 1, "training": training})
        (run / "history.csv").write_text("epoch,loss,epoch_seconds\n" + history)
    (tmp_path / "eval.json").write_text(json.dumps(_evaluation()))
    folder = export_weights(second, tmp_path / "weights" / "autoencoder.tiny_32",
                            evaluation=tmp_path / "eval.json",
                            command="colorizer train --config a.json && "
                                    "colorizer train --config b.json")
    training = json.loads((folder / "metrics.json").read_text())["training"]
    assert training["epochs_run"] == 3 and training["wall_time_s"] == 250.5
    assert training["started_from"]["run"] == str(first)
    assert training["started_from"]["wall_time_s"] == 200.0
    assert training["command"].endswith("--config b.json")
    card = (folder / "README.md").read_text()
    assert f"started from run `{first}`: 2 epochs and 200.0 s in all" in card


def test_export_of_a_kept_checkpoint_counts_its_run_up_to_that_epoch(tmp_path):
    # keep_epochs: RUN/epochs/NNN, started from another run's kept checkpoint.
    first, second = tmp_path / "feature", tmp_path / "gan"
    model = create_model("autoencoder", image_size=32)
    for run, training in ((first, {"model": "autoencoder"}),
                          (second, {"model": "autoencoder",
                                    "init_from": str(first / "epochs" / "002")})):
        for epoch in (1, 2, 3):
            model.save_pretrained(run / "epochs" / f"{epoch:03d}",
                                  extra={"epoch": epoch, "training": training})
        (run / "history.csv").write_text("epoch,loss,epoch_seconds\n0,1.0,100.0\n"
                                         "1,0.9,100.0\n2,0.8,100.0\n")
    (tmp_path / "eval.json").write_text(json.dumps(_evaluation()))
    folder = export_weights(second / "epochs" / "002", tmp_path / "weights" / "autoencoder.t_32",
                            evaluation=tmp_path / "eval.json", command="colorizer train ...")
    training = json.loads((folder / "metrics.json").read_text())["training"]
    assert training["best_epoch"] == 2 and training["epochs_run"] == 4  # 2 here, 2 before
    assert training["wall_time_s"] == 400.0
    assert training["started_from"]["run"] == str(first / "epochs" / "002")



def test_export_gives_a_classification_model_its_own_temperature(tmp_path):
    from colorizer.models.quantization import ab_bins

    run = tmp_path / "run"
    model = create_model("autoencoder", image_size=32, head="classification")
    model.with_prior(np.full(len(ab_bins()), 1.0 / len(ab_bins())))
    model.save_pretrained(run / "model", extra={"epoch": 1, "training": {"model": "autoencoder"}})
    (run / "history.csv").write_text("epoch,loss,epoch_seconds\n0,1.0,10.0\n")
    for temperature in (0.38, 0.5):
        (tmp_path / f"eval_{temperature}.json").write_text(
            json.dumps({**_evaluation(), "temperature": temperature}))
    output = tmp_path / "weights" / "autoencoder_classification.tiny_32"
    # The evaluation must be measured at the temperature the folder will decode at.
    with pytest.raises(ValueError, match="measured at temperature 0.38, but the model decodes "
                                         "at 0.5 by default: evaluate with --temperature 0.5"):
        export_weights(run, output, evaluation=tmp_path / "eval_0.38.json", temperature=0.5)
    assert not output.exists()
    folder = export_weights(run, output, evaluation=tmp_path / "eval_0.5.json", temperature=0.5)
    assert json.loads((folder / "config.json").read_text())["temperature"] == 0.5
    assert colorizer.from_pretrained(folder).default_temperature == 0.5
    assert "default 0.5, this model's own" in (folder / "README.md").read_text()
    from colorizer.hub.zoo import folder_fields

    assert folder_fields(folder)["temperature"] == 0.5
    # A crafted folder's bad temperature lists as none (loading it says what is wrong).
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "temperature": "hot"}))
    assert folder_fields(folder)["temperature"] is None
    with pytest.raises(ValueError, match="temperature must be null or"):
        colorizer.from_pretrained(folder)

def test_export_from_zoo_weights_with_a_data_card_and_a_second_evaluation(zoo, tmp_path,
                                                                          capsys):
    """A run warm-started from a zoo weight folder counts that folder's training; --sources
    puts each set's origin, photos and terms in the card; an evaluation on other photos is
    recorded beside the main one and gets its own column in the zoo table."""
    from colorizer.cli import main, results_table
    from colorizer.training.export import record_evaluation

    data = tmp_path / "mixed"
    data.mkdir()
    (data / "train.txt").write_text("flickr8k/a.jpg\nplaces/b.jpg\nplaces/c.jpg\n")
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps({"sets": [
        {"name": "flickr8k", "title": "Flickr8k", "repository": "the project's copy",
         "commit": "", "terms": "research only"},
        {"name": "places", "title": "Places", "repository": "github.com/x/places",
         "commit": "f" * 40, "terms": "research and education"}]}))
    run = tmp_path / "run-mixed"
    create_model("cnn", image_size=32, width=0.125).save_pretrained(run / "model", extra={
        "epoch": 0, "training": {"model": "cnn", "data": str(data), "init_from": "cnn.tiny_32"}})
    (run / "history.csv").write_text("epoch,loss,epoch_seconds\n0,0.8,100.0\n")
    (tmp_path / "eval.json").write_text(json.dumps(_evaluation(140.0)))
    folder = export_weights(run, zoo / "cnn.mixed_32", evaluation=tmp_path / "eval.json",
                            dataset="mixed", sources=sources)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [s["train_photos"] for s in metrics["data_sources"]] == [1, 2]
    training = metrics["training"]
    assert training["started_from"]["run"] == "cnn.tiny_32"
    assert training["epochs_run"] == 3 and training["wall_time_s"] == 125.0
    card = (folder / "README.md").read_text()
    assert "| Places | github.com/x/places @ `" + "f" * 40 + "` | 2 | research and education |" \
        in card
    assert "started from run `cnn.tiny_32`: 2 epochs and 25.0 s in all" in card

    other = dict(_evaluation(120.0), data="mixed/val_places.txt", split=None)
    other["results"]["gray"]["ab_mse"] = 190.0
    assert record_evaluation(folder, other)[1] == "a further evaluation (val_places)"
    again = dict(other, results=dict(other["results"], model=dict(
        other["results"]["model"], ab_mse=119.0)))
    record_evaluation(folder, again)  # the same name replaces it
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [e["results"]["model"]["ab_mse"] for e in metrics["more_evaluations"]] == [119.0]
    assert metrics["evaluation"]["results"]["model"]["ab_mse"] == 140.0
    assert record_evaluation(folder, _evaluation(139.0))[1] == "the main evaluation"
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md")
    assert {r.dataset_name for r in card.data.eval_results} == {"flickr8k val", "val_places"}
    assert "### val_places" in card.text and "| model | 119.00 |" in card.text

    table = results_table(colorizer.list_pretrained()).splitlines()
    print("\n".join(table))
    assert table[:4] == ["**flickr8k val**", "", "| model | vividness | ab MSE | PSNR dB | CF | "
                         "mean abs dCF | KID x1000 | content % |",
                         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    assert table[4].startswith("| autoencoder.tiny_32 | 0 | 180.0 |")
    assert table[5].startswith("| **cnn.mixed_32** (default) | 0 | 139.0 |")
    places = table.index("**val_places**")  # the further evaluation: a table of its own
    assert table[places + 4].startswith("| **cnn.mixed_32** (default) | 0 | 119.0 |")
    assert len(table) == places + 7  # cnn.mixed_32's row only, then its note
    assert table[-1].startswith("10 photos; gray: ab MSE 190.0") and "originals' CF 35.0" \
        in table[-1]
    assert main(["list", "--markdown"]) == 0
    assert "**val_places**" in capsys.readouterr().out


def test_export_refuses_a_bad_sources_file_in_one_line_and_writes_nothing(zoo, tmp_path,
                                                                          capsys):
    from colorizer.cli import main

    bad = tmp_path / "sources.json"
    bad.write_text(json.dumps({"sets": [{"name": "places"}]}))  # no repository, no terms
    (tmp_path / "eval.json").write_text(json.dumps(_evaluation()))
    run = tmp_path / "run-autoencoder.tiny_32"
    assert main(["export", str(run), str(tmp_path / "out"), "--evaluation",
                 str(tmp_path / "eval.json"), "--sources", str(bad), "--command", "x"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("colorizer export: error: ") and "not a sources file" in error
    assert error.count("\n") == 1 and not (tmp_path / "out").exists()


def test_record_in_a_wrong_folder_fails_before_evaluating(tmp_path, capsys):
    from colorizer.cli import main

    assert main(["evaluate", "--model", "no-such-model", "--data", str(tmp_path),
                 "--record-in", str(tmp_path / "nothing")]) == 2
    error = capsys.readouterr().err
    assert "nothing is not a model folder" in error and "no-such-model" not in error


def test_from_pretrained_by_zoo_name_folder_and_errors(zoo, tmp_path):
    assert from_pretrained("cnn.tiny_32").architecture == "cnn"
    assert from_pretrained(zoo / "autoencoder.tiny_32").architecture == "autoencoder"
    with pytest.raises(ValueError, match="autoencoder.tiny_32, cnn.tiny_32"):
        from_pretrained("nonsense")


def test_zoo_entry_naming_a_hub_repo_without_shipped_weights(zoo, monkeypatch):
    folder = zoo / "cnn.tiny_32"
    config = json.loads((folder / "config.json").read_text())
    config["hub_repo"] = "team/cnn-tiny"
    (folder / "config.json").write_text(json.dumps(config))
    calls = []
    monkeypatch.setattr("colorizer.hub.download",
                        lambda repo, revision, cache, token: calls.append((repo, revision)) or folder)
    assert resolve("cnn.tiny_32") == folder and calls == []  # shipped weights win
    resolve("cnn.tiny_32", revision="abc")
    assert calls == [("team/cnn-tiny", "abc")]  # an explicit revision asks the Hub

    def unreachable(*args):
        raise HubError("the Hub cannot be reached")

    monkeypatch.setattr("colorizer.hub.download", unreachable)
    with pytest.warns(UserWarning, match="using the shipped copy"):
        assert resolve("cnn.tiny_32", revision="abc") == folder


def _recording_api(monkeypatch):
    """An autospec of HfApi (calls with arguments HfApi does not take fail) that records the
    files of each commit; returns the mock instance."""
    from unittest import mock

    import huggingface_hub
    from huggingface_hub.hf_api import HfApi  # the real class, whatever the package holds now

    api = mock.create_autospec(HfApi, instance=True)
    api.uploaded = []

    def create_commit(*, repo_id, operations, **kwargs):
        files = {}
        for operation in operations:
            with operation.as_file() as handle:
                files[operation.path_in_repo] = handle.read()
        api.uploaded.append(files)
        return mock.Mock(commit_url=f"https://hub.example/{repo_id}/commit/1234", oid="1234")

    api.create_commit.side_effect = create_commit
    constructor = mock.create_autospec(HfApi, return_value=api)
    monkeypatch.setattr(huggingface_hub, "HfApi", constructor)
    return api, constructor


def test_push_sends_one_commit_with_the_whole_folder(zoo, monkeypatch):
    api, constructor = _recording_api(monkeypatch)
    url = push_folder(zoo / "cnn.tiny_32", "team/cnn-tiny", private=True, token="hf_x",
                      commit_message="first weights")
    assert url == "https://hub.example/team/cnn-tiny/commit/1234"
    constructor.assert_called_once_with(token="hf_x")
    api.create_repo.assert_called_once_with("team/cnn-tiny", private=True, exist_ok=True,
                                            repo_type="model")
    api.create_commit.assert_called_once()
    kwargs = api.create_commit.call_args.kwargs
    assert kwargs["repo_id"] == "team/cnn-tiny" and kwargs["commit_message"] == "first weights"
    assert kwargs["repo_type"] == "model"
    files = api.uploaded[0]
    assert set(files) == {"config.json", "model.weights.h5", "metrics.json", "README.md"}
    assert files["model.weights.h5"] == (zoo / "cnn.tiny_32" / "model.weights.h5").read_bytes()

    # A model object gets saved and a card written for it.
    api, _ = _recording_api(monkeypatch)
    create_model("autoencoder", image_size=32).push_to_hub("team/fresh")
    files = api.uploaded[0]
    assert set(files) == {"config.json", "model.weights.h5", "README.md"}
    assert b"team/fresh" in files["README.md"]


@pytest.mark.slow
def test_saved_weights_leave_out_the_optimizer_state(tmp_path):
    model = create_model("autoencoder", image_size=32)
    model.network.compile(optimizer="adam", loss="mse")
    model.network.fit(np.zeros((4, 32, 32, 1)), np.zeros((4, 32, 32, 2)), epochs=1, verbose=0)
    folder = model.save_pretrained(tmp_path / "m")
    size = (folder / "model.weights.h5").stat().st_size
    assert size < 1.2 * model.count_params() * 4  # float32 weights, no Adam moments
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(from_pretrained(folder).network(x)),
                               np.asarray(model.network(x)), rtol=1e-6)


def test_hf_scheme_always_means_the_hub(tmp_path, monkeypatch):
    create_model("autoencoder", image_size=32).save_pretrained(tmp_path / "team" / "tiny")
    monkeypatch.chdir(tmp_path)  # a local folder team/tiny, as the repo id
    calls = []
    monkeypatch.setattr("colorizer.hub.download",
                        lambda repo, revision, cache, token: calls.append(repo) or tmp_path)
    assert resolve("team/tiny") == Path("team/tiny") and calls == []  # plain: the folder
    assert resolve("hf://team/tiny") == tmp_path and calls == ["team/tiny"]  # hf://: the Hub
    with pytest.raises(ValueError, match="hf:// must be followed by a Hub repo id"):
        resolve("hf://tiny")


def test_pushed_configs_carry_no_local_paths(tmp_path, monkeypatch):
    from colorizer.training.loop import TrainConfig

    run = tmp_path / "runs" / "my-run"
    config = TrainConfig(model="autoencoder", data=str(tmp_path / "private" / "photos"),
                         output=str(run), image_size=32, init_from=str(tmp_path / "runs" / "old"),
                         prior=str(tmp_path / "private" / "prior.json"),
                         model_args={"head": "classification"}).resolved()
    create_model("autoencoder", image_size=32).save_pretrained(run / "model",
                    extra={"epoch": 1, "training": dataclasses.asdict(config)})
    (run / "model" / "metrics.json").write_text(json.dumps(
        {"evaluation": {**_evaluation(), "data": str(tmp_path / "private" / "photos")},
         "training": {"config": dataclasses.asdict(config),
                      "started_from": {"run": str(tmp_path / "runs" / "old"), "epochs_run": 2,
                                       "wall_time_s": 9.0, "config": {}}}}))
    api, _ = _recording_api(monkeypatch)
    push_folder(run, "team/mine")
    files = api.uploaded[0]
    for name in ("config.json", "metrics.json", "README.md"):
        assert str(tmp_path).encode() not in files[name], name
    pushed = json.loads(files["config.json"])["training"]
    assert (pushed["data"], pushed["output"], pushed["init_from"], pushed["prior"]) == (
        "photos", "my-run", "old", "prior.json")  # what they were, without where
    assert pushed["model"] == "autoencoder" and pushed["image_size"] == 32
    # The folder itself keeps its record.
    assert str(tmp_path) in (run / "model" / "config.json").read_text()
