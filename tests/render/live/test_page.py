"""Live page: one <video> playing the playlist, a status line, the title escaped."""

from __future__ import annotations

from html.parser import HTMLParser

from render.live.page import write_page


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def tags_of(text: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(text)
    return parser.found


def test_the_page_holds_one_video_playing_the_playlist(tmp_path):
    page = write_page(tmp_path, "zoom_places")
    assert page == tmp_path / "index.html"
    videos = [attrs for tag, attrs in tags_of(page.read_text()) if tag == "video"]
    assert len(videos) == 1
    assert videos[0]["src"] == "stream.m3u8"
    assert {"autoplay", "muted", "playsinline"} <= set(videos[0])  # browsers autoplay only muted video


def test_the_page_reads_the_status_and_shows_the_end(tmp_path):
    text = write_page(tmp_path, "zoom").read_text()
    assert 'fetch("status.json"' in text and "The stream has ended." in text


def test_the_title_is_escaped(tmp_path):
    text = write_page(tmp_path, "<script>alert(1)</script>").read_text()
    assert "<script>alert(1)" not in text and "&lt;script&gt;" in text


def test_a_page_opened_before_the_stream_keeps_trying(tmp_path):
    text = write_page(tmp_path, "zoom").read_text()
    assert 'video.src = "stream.m3u8?retry="' in text and "Waiting for the stream" in text
