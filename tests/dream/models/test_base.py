import pytest
import torch
import torch.nn.functional as F

from dream.models.base import local_response_norm


@pytest.mark.parametrize("size", [4, 5, 11])
def test_banded_lrn_equals_the_library_lrn(size):
    x = torch.rand(2, 13, 4, 6, generator=torch.Generator().manual_seed(1)) * 50
    expected = F.local_response_norm(x, size, alpha=1e-3, beta=0.75, k=2.0)
    torch.testing.assert_close(local_response_norm(x, size, 1e-3, 0.75, 2.0), expected)
    channels_last = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(local_response_norm(channels_last, size, 1e-3, 0.75, 2.0), expected)


def test_banded_lrn_gradient_equals_the_library_lrn():
    x = (torch.rand(1, 9, 3, 3, generator=torch.Generator().manual_seed(2)) * 50).requires_grad_(True)
    (ours,) = torch.autograd.grad(local_response_norm(x, 5, 1e-3, 0.75, 1.0).sum(), x)
    (library,) = torch.autograd.grad(F.local_response_norm(x, 5, alpha=1e-3, beta=0.75, k=1.0).sum(), x)
    torch.testing.assert_close(ours, library)
