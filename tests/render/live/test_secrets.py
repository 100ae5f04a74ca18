"""Secrets: the stream key and the token kept out of logs, the run folder's config, and given again on resume."""

from __future__ import annotations

from omegaconf import OmegaConf

from render.config import RenderConfig
from render.live.secrets import MASK, given_again, redact, redact_text, secrets_of, stream_key, without_secrets

URL = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl"


def test_the_stream_key_stays_out_of_the_log():
    assert stream_key(URL) == "abcd-efgh-ijkl" and stream_key("rtmp://host") is None
    assert redact(URL) == "rtmp://a.rtmp.youtube.com/live2/********"


def test_text_is_masked_as_written_and_as_tee_escaped():
    assert redact_text(f"Slave '{URL}': error, [k\\|ey] k|ey", ("abcd-efgh-ijkl", "k|ey")) == \
        f"Slave '{redact(URL)}': error, [{MASK}] {MASK}"


def test_the_saved_config_holds_no_secret_and_a_resume_gets_them_again():
    cfg = OmegaConf.structured(RenderConfig)
    cfg.live.url, cfg.live.token = URL, "s3cret-token"
    assert secrets_of(cfg.live) == ("abcd-efgh-ijkl", "s3cret-token")
    saved = without_secrets(cfg)
    text = OmegaConf.to_yaml(saved)
    assert "abcd-efgh-ijkl" not in text and "s3cret" not in text and cfg.live.url == URL  # the original is kept
    given = OmegaConf.structured(RenderConfig)
    given_again(saved, given)  # resumed without them: no push to a masked key, no token
    assert saved.live.url is None and saved.live.token is None
    given.live.url, given.live.token = URL, "t"
    given_again(saved, given)
    assert saved.live.url == URL and saved.live.token == "t"
