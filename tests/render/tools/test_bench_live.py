"""The latency bench's pieces: reading /mjpeg parts, matching a change to the first frame that shows it."""

import io

from render.live.mjpeg import part
from render.tools.bench_live import Arrivals, frame_pace, part_headers, percentile


def test_part_headers_read_each_parts_frame_and_length_then_none_at_the_end():
    stream = io.BytesIO(part(7, b"\xff\xd8jpeg") + part(8, b"\xff\xd8more"))
    first = part_headers(stream)
    assert (first["x-frame"], first["content-length"]) == ("7", "6")
    stream.read(int(first["content-length"]) + 2)
    assert part_headers(stream)["x-frame"] == "8"
    stream.read(8 + 2)
    assert part_headers(stream) is None


def test_a_change_is_shown_by_the_first_frame_from_its_own_after_it_was_sent():
    arrivals = Arrivals([(1.0, 4), (2.0, 5), (3.0, 6), (4.0, 7)])
    assert arrivals.first_from(6, after=1.5) == 3.0
    assert arrivals.first_from(5, after=2.5) == 3.0  # a later frame shows it too
    assert arrivals.first_from(9, after=0.0) is None


def test_pace_and_percentiles():
    assert frame_pace(Arrivals([(0.0, 1), (0.5, 2), (1.0, 3), (3.0, 4)])) == (0.5, 2.0)
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) in (10.0, 11.0) and percentile(values, 0.95) == 19.0


def test_camera_motion_reads_a_known_zoom_and_turn_from_two_frames():
    import cv2
    from skimage import data

    from render.tools.bench_live import camera_motion

    photo = cv2.resize(data.astronaut(), (256, 256))[64:208]  # (144, 256, 3)
    turned = cv2.warpAffine(photo, cv2.getRotationMatrix2D((128, 72), 3.0, 1.05), (256, 144),
                            borderMode=cv2.BORDER_REFLECT)
    jpegs = [cv2.imencode(".jpg", image)[1].tobytes() for image in (photo, turned)]
    zoom, degrees = camera_motion(*jpegs)
    assert abs(zoom - 1.05) < 0.01 and abs(abs(degrees) - 3.0) < 0.3
