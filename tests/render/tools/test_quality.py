"""``render.tools.quality``: the transfer check's objective, results table and report."""

import json

import torch

from render.tools.quality import one_class_per_image, results_table, save_report, visualize_classes


def test_transfer_check_plumbing(tiny_net, tmp_path):
    labels = ["banana", "zebra"]
    objective = one_class_per_image("logits", [0, 3])
    logits = torch.arange(10.0).view(2, 5)
    assert objective({"logits": logits}).tolist() == [0.0, 8.0]
    results = [visualize_classes(tiny_net, tiny_net, labels, p, steps=2, size=12, seed=0) for p in ("fourier", "pixel")]
    assert results[0].images.shape == (2, 3, 12, 12) and len(results[1].judge_top5) == 2
    assert "top-5" in results_table(labels, results).caption
    save_report(labels, results, tmp_path, {"steps": 2})
    report = json.loads((tmp_path / "transfer.json").read_text())
    assert set(report["results"]) == {"fourier", "pixel"} and (tmp_path / "transfer_sheet.png").is_file()
