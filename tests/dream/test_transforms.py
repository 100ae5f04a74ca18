import pytest
import torch

from dream.transforms import compose, crop_boxes, jitter, pad, random_crops, random_rotate, random_scale, robustness


def ramp(batch: int = 2, size: int = 16) -> torch.Tensor:
    """(B, 3, size, size) horizontal ramp: a rotation or scale visibly changes it."""
    row = torch.linspace(0, 1, size)
    return row.expand(batch, 3, size, size).clone()


def test_pad_grows_with_grey_and_zero_is_identity():
    image = ramp()
    padded = pad(3)(image)
    assert padded.shape == (2, 3, 22, 22)
    assert torch.all(padded[..., :3, :] == 0.5)
    assert pad(0)(image) is image


def test_jitter_crops_at_a_random_offset():
    image = torch.arange(20 * 20, dtype=torch.float32).view(1, 1, 20, 20)
    shift = jitter(4, torch.Generator().manual_seed(0))
    crops = [shift(image) for _ in range(10)]
    assert all(c.shape == (1, 1, 16, 16) for c in crops)
    assert len({float(c[0, 0, 0, 0]) for c in crops}) > 1


@pytest.mark.parametrize(
    "make", [lambda g: random_scale([0.9, 1.1], g), lambda g: random_rotate(10.0, g)], ids=["scale", "rotate"]
)
def test_scale_and_rotate_keep_shape_and_change_the_image(make):
    image = ramp()
    out = make(torch.Generator().manual_seed(0))(image)
    assert out.shape == image.shape
    assert not torch.allclose(out, image, atol=1e-3)


def test_identity_settings_change_nothing():
    image = ramp()
    assert torch.allclose(random_scale([1.0], torch.Generator())(image), image, atol=1e-5)
    assert random_rotate(0.0, torch.Generator())(image) is image


def test_rotation_differs_per_image_in_the_batch():
    out = random_rotate(20.0, torch.Generator().manual_seed(0))(ramp(batch=2))
    assert not torch.allclose(out[0], out[1], atol=1e-3)


def test_robustness_chain_is_seeded_and_keeps_size_but_jitter():
    image = ramp(size=32)

    def run(seed: int) -> torch.Tensor:
        return robustness(4, [0.95, 1.05], 5.0, torch.Generator().manual_seed(seed))(image)

    assert run(1).shape == (2, 3, 34, 34)  # 32 + 2*4 padding - 4 jitter - 2 fine jitter
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_gradient_flows_through_the_chain():
    image = ramp(size=16).requires_grad_(True)
    robustness(2, [1.1], 5.0, torch.Generator().manual_seed(0))(image).sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_compose_applies_in_order():
    assert compose([lambda x: x + 1, lambda x: x * 2])(torch.tensor(1.0)) == 4


def test_random_crops_shape_order_and_noise():
    image = torch.stack([torch.zeros(3, 40, 60), torch.ones(3, 40, 60)])  # image 0 black, image 1 white
    crops = random_crops(4, (0.5, 0.9), 16, noise=0.0, generator=torch.Generator().manual_seed(0))(image)
    assert crops.shape == (8, 3, 16, 16)
    assert crops[:4].abs().max() == 0 and torch.allclose(crops[4:], torch.ones(4, 3, 16, 16))  # image-major
    noisy = random_crops(4, (0.5, 0.9), 16, noise=0.1, generator=torch.Generator().manual_seed(0))(image)
    assert 0.05 < (noisy - crops).std() < 0.15


def test_crop_boxes_lie_inside_and_have_the_asked_sizes():
    boxes = crop_boxes(500, 40, 60, 0.25, 0.75, torch.Generator().manual_seed(0))
    side = boxes[:, 2] - boxes[:, 0]
    assert torch.allclose(side, boxes[:, 3] - boxes[:, 1])
    assert side.min() >= 10 - 1e-4 and side.max() <= 30 + 1e-4 and side.max() - side.min() > 15
    assert boxes[:, :2].min() >= 0 and boxes[:, 2].max() <= 60 and boxes[:, 3].max() <= 40


def test_crop_boxes_larger_than_the_image_hold_it_whole():
    boxes = crop_boxes(200, 40, 40, 1.2, 1.5, torch.Generator().manual_seed(0))
    side = boxes[:, 2] - boxes[:, 0]
    assert side.min() >= 48 - 1e-4 and side.max() <= 60 + 1e-4
    assert boxes[:, :2].max() <= 0 and boxes[:, 2:].min() >= 40


def test_crops_larger_than_the_image_show_it_smaller_on_its_mean_colour():
    image = torch.zeros(1, 3, 16, 16)
    image[:, 0] = 1.0  # red everywhere; its mean colour is red too
    image[:, 1, 6:10, 6:10] = 1.0  # a yellow square in the middle
    crops = random_crops(8, (1.5, 2.0), 16, noise=0.0, generator=torch.Generator().manual_seed(0))(image)
    assert torch.allclose(crops[:, 0], torch.ones(8, 16, 16), atol=1e-5)  # the padding is the mean colour, not black
    corners = crops[:, 1, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.abs().max() < 0.1  # the pad's green is the mean's 1/16
    assert (crops[:, 1] > 0.5).sum(dim=(1, 2)).float().mean() < 16  # the square is drawn smaller than 4 x 4


def test_random_crops_are_seeded_and_pass_the_gradient():
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    first = random_crops(3, (0.4, 0.8), 8, 0.05, torch.Generator().manual_seed(1))(image)
    again = random_crops(3, (0.4, 0.8), 8, 0.05, torch.Generator().manual_seed(1))(image)
    assert torch.equal(first, again)
    first.sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
