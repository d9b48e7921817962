"""Raw streaming under load: four simulated boards at 833 Hz in real time, each streaming
its raw samples as well as events, recorded at once. The full 10-minute run is a benchmark
(`jerklog bench load`); this short one checks that nothing is lost."""
import numpy as np

from jerklog.bench.load import load
from jerklog.recordings.rawstream import read_raw


def test_four_boards_at_833_hz_streaming_raw_lose_nothing():
    figures = load(devices=4, rate_hz=833, seconds=20, log=lambda *_: None)
    assert figures["lost"] == 0 and figures["rejected"] == 0
    # every full raw frame arrived: at most 9 samples (a last partial frame) short per board
    assert figures["samples"] - 4 * 9 <= figures["raw_samples"] <= figures["samples"]
    print("load (20 s):", figures)


def test_raw_files_read_back_as_the_samples_sent(tmp_path):
    from array import array

    from jerklog.boards.decoder import FrameDecoder
    from jerklog.firmware import protocol
    from jerklog.recordings.rawstream import RawSink
    out = bytearray()
    w = protocol.FrameWriter(lambda b, n: out.extend(b[:n]), 3, 4)
    values = np.arange(-600, 600).reshape(-1, 6)  # 200 samples
    for k in range(0, 200, 10):
        w.raw(1000 + 12 * k // 10, 10, 1200, array("h", values[k:k + 10].ravel().tolist()))
    sink = RawSink(str(tmp_path / "raw"))
    for rec in FrameDecoder().feed(out):
        sink.write(rec)
    sink.close()
    t, v = read_raw(sink.path(3, 4))
    assert (v == values).all()
    assert np.allclose(t, 1000 + 1.2 * np.arange(200))
