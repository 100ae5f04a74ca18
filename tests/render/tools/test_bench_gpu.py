import pytest

from render.tools import bench_gpu


@pytest.mark.slow
def test_gpu_bench_script_runs_end_to_end_on_cpu(capsys):
    bench_gpu.main(["--device", "cpu", "--quick", "--models", "googlenet"])
    out = capsys.readouterr().out
    assert "float32 baseline" in out and "bf16 autocast" in out
    assert "failed" not in out
    assert "Video dream frames/s by batch" in out
    assert "Presets as users run them" in out and "zoom_places" in out and "video_dream" in out


def test_gpu_bench_refuses_without_cuda(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit):
        bench_gpu.main([])
    assert "No CUDA GPU" in capsys.readouterr().out
