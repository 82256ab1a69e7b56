"""The job logger: levels, secrets masking, test-case markers."""

import json

import pytest

from lava_dispatcher.logger import JobLogger


class Sink(list):
    def write(self, line):
        self.append(line)

    def flush(self):
        pass


def test_stream_gets_bare_maps_and_file_gets_yaml_list(tmp_path):
    stream = Sink()
    log_file = (tmp_path / "logs.yaml").open("w")
    logger = JobLogger(log_file=log_file, stream=stream)
    logger.info("hello")
    logger.close()
    assert json.loads(stream[0])["msg"] == "hello"
    assert (tmp_path / "logs.yaml").read_text().startswith('- {"dt": ')


def test_only_the_nine_levels():
    logger = JobLogger(stream=Sink())
    with pytest.raises(ValueError):
        logger.write("event", "x")
    with pytest.raises(ValueError):
        logger.write("marker", "x")


def test_secrets_are_masked_everywhere():
    stream = Sink()
    logger = JobLogger(stream=stream)
    logger.add_secret("s3cret")
    logger.target("password is s3cret")
    logger.results({"definition": "x", "case": "y", "result": "pass", "extra": {"token": "s3cret"}})
    assert "s3cret" not in "".join(stream)
    assert "[MASKED]" in stream[0]


def test_markers_become_starttc_endtc():
    stream = Sink()
    logger = JobLogger(stream=stream)
    logger.target("a")
    logger.marker("case1", "starttc")
    logger.target("b")
    logger.marker("case1", "endtc")
    logger.results({"definition": "0_x", "case": "case1", "result": "pass"})
    record = json.loads(stream[-1])["msg"]
    assert record["starttc"] == 1 and record["endtc"] == 2


def test_closed_stream_does_not_stop_logging(tmp_path):
    class Broken(Sink):
        def write(self, line):
            raise BrokenPipeError

    log_file = (tmp_path / "logs.yaml").open("w")
    logger = JobLogger(log_file=log_file, stream=Broken())
    logger.info("one")
    logger.info("two")
    logger.close()
    assert (tmp_path / "logs.yaml").read_text().count("\n") == 2


def test_batched_target_lines_match_the_shared_format():
    import io

    from lava_common.log import format_record

    out = io.StringIO()
    logger = JobLogger(log_file=out)
    lines = ["plain", "tab\there", 'quote"x', "ctl\x01x", "del\x7fx", "uni é", "back\\slash", "", "nel\x85x", "x" * 200_000]
    logger.target_lines(lines)
    written = out.getvalue().splitlines()
    assert len(written) == len(lines) and logger.line_count == len(lines)
    for line, record in zip(lines, written, strict=True):
        dt = json.loads(record[2:])["dt"]
        assert record == format_record("target", line, dt=dt)
