"""The Python .gtrace writer: byte layout, round trip, version selection, resume after a partial record, locking, and
refusal to overwrite."""
import os
import struct
import subprocess
import sys
import unittest
import zlib

import numpy as np

from gradtrace_log.gtrace import GtraceError, GtraceWriter, read_gtrace, scan_records

from .util import repo_python_dir, tmpdir


def write_steps(path, steps, **kw):
    w = GtraceWriter(path, [("a", (2, 3)), ("b", (4,), "F64")], **kw)
    for t in steps:
        w.append(t, {"a": np.full(6, t, np.float32), "b": np.arange(4.0) + t}, loss=0.5 * t, momentum={"b": np.ones(4) * t})
    return w


class GtraceWriterTest(unittest.TestCase):
    def test_layout_and_round_trip(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0, 2, 5]).close()
        with open(p, "rb") as f:
            data = f.read()
        self.assertEqual(data[:6], b"GTRACE")
        version, jlen, crc = struct.unpack("<HII", data[6:16])
        self.assertEqual(version, 1)  # no range sketch declared: a version-1 file
        self.assertEqual(zlib.crc32(data[16 : 16 + jlen]), crc)
        first = 16 + jlen
        self.assertEqual(data[first : first + 4], b"GREC")
        n_entries, payload = struct.unpack_from("<IQ", data, first + 4)
        self.assertEqual(n_entries, 3)
        self.assertEqual(payload, 6 * 4 + 4 * 8 + 4 * 8)
        r = read_gtrace(p)
        self.assertIsNone(r["problem"])
        self.assertEqual([s["step"] for s in r["steps"]], [0, 2, 5])
        self.assertEqual(r["steps"][2]["loss"], 2.5)
        self.assertIsNone(r["steps"][0]["lr"])
        np.testing.assert_array_equal(r["steps"][1]["values"][("a", 0)], np.full(6, 2.0))
        np.testing.assert_array_equal(r["steps"][2]["values"][("b", 1)], np.full(4, 5.0))

    def test_range_entries_make_version_2(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        rs = {"s": 2, "seed": 0, "seeding": "name", "tensors": [{"name": "a", "rows": 2, "cols": 3}]}
        w = GtraceWriter(p, [("a", (2, 3))], range_sketch=rs)
        w.append(0, {"a": np.zeros(6)}, ranges={"a": np.arange(4.0)})
        with self.assertRaises(ValueError):
            w.append(1, {"a": np.zeros(6)}, ranges={"a": np.arange(5.0)})  # rows × s = 4 values
        w.close()
        r = read_gtrace(p)
        self.assertEqual(r["version"], 2)
        np.testing.assert_array_equal(r["steps"][0]["values"][("a", 2)], np.arange(4.0))

    def test_refuses_existing_and_checks_steps(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0]).close()
        with self.assertRaises(FileExistsError):
            write_steps(p, [0])
        w = write_steps(p, [3], mode="overwrite")
        with self.assertRaises(ValueError):
            w.append(3, {"a": np.zeros(6), "b": np.zeros(4)})  # steps must increase
        with self.assertRaises(ValueError):
            w.append(4, {"a": np.zeros(6)})  # b missing
        w.close()
        self.assertEqual([s["step"] for s in read_gtrace(p)["steps"]], [3])

    def test_resume_truncates_the_partial_record(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0, 1, 2]).close()
        size = os.path.getsize(p)
        with open(p, "r+b") as f:  # a crash in the middle of step 3's record
            f.seek(size)
            f.write(b"GREC" + b"\x07" * 30)
        doc, version, records, end, problem = scan_records(p)
        self.assertEqual(end, size)
        self.assertIn("file ends inside the record header", problem)
        w = write_steps(p, [3, 4], mode="resume")
        self.assertIn("skipped", w.resumed_problem)
        self.assertEqual(w.last_step, 4)
        w.close()
        r = read_gtrace(p)
        self.assertIsNone(r["problem"])
        self.assertEqual([s["step"] for s in r["steps"]], [0, 1, 2, 3, 4])

    def test_resume_rejects_other_tensors_and_old_steps(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0, 1]).close()
        with self.assertRaises(GtraceError):
            GtraceWriter(p, [("a", (6,))], mode="resume")
        w = write_steps(p, [], mode="resume")
        with self.assertRaises(ValueError):
            w.append(1, {"a": np.zeros(6), "b": np.zeros(4)})
        w.close()

    def test_corrupt_middle_record_is_an_error(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0, 1, 2]).close()
        doc, _, records, _, _ = scan_records(p)
        with open(p, "r+b") as f:  # flip a bit in the entry table of record 1
            f.seek(records[1]["offset"] + 48)
            b = f.read(1)
            f.seek(records[1]["offset"] + 48)
            f.write(bytes([b[0] ^ 1]))
        with self.assertRaises(GtraceError):
            scan_records(p)

    def test_second_writer_is_refused_while_the_first_lives(self):
        p = os.path.join(tmpdir(self), "r.gtrace")
        write_steps(p, [0]).close()
        code = (
            "import sys, time, numpy as np\n"
            f"sys.path.insert(0, {repo_python_dir()!r})\n"
            "from gradtrace_log.gtrace import GtraceWriter\n"
            f"w = GtraceWriter({p!r}, [('a', (2, 3)), ('b', (4,), 'F64')], mode='resume')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n"
        )
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(child.stdout.readline().strip(), "locked")
            with self.assertRaises(GtraceError) as ctx:
                write_steps(p, [1], mode="resume")
            self.assertIn("another writer", str(ctx.exception))
        finally:
            child.kill()
            child.wait()
        write_steps(p, [1], mode="resume").close()  # the lock died with its process
        self.assertEqual([s["step"] for s in read_gtrace(p)["steps"]], [0, 1])

    def test_fsync_policies_and_bad_options(self):
        d = tmpdir(self)
        for policy in ("record", "close", "none"):
            p = os.path.join(d, f"{policy}.gtrace")
            write_steps(p, [0, 1], fsync=policy).close()
            self.assertEqual(len(read_gtrace(p)["steps"]), 2)
        with self.assertRaises(ValueError):
            GtraceWriter(os.path.join(d, "x.gtrace"), [("a", (1,))], fsync="sometimes")
        with self.assertRaises(ValueError):
            GtraceWriter(os.path.join(d, "x.gtrace"), [("a", (1,), "I32")])


if __name__ == "__main__":
    unittest.main()
