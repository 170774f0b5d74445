"""Analogy accuracy of a vector file: pyw2v-compute-accuracy, or gensim in a child process."""
import json
import os
import re
import shlex
import subprocess
import sys

from .common import ACCURACY_THRESHOLD, BUNDLED_QUESTIONS, HARNESS, log


class Evaluator:
    """Analogy accuracy of a binary vector file, restricted to the 30,000
    most frequent words.

    Prefers an external compute-accuracy style command (pyw2v's, or C's);
    the first time it fails, switches to gensim's evaluate_word_analogies
    (run in a child process) for this and every later file, and remembers
    why, so the report can say which evaluator produced the numbers.
    """

    def __init__(self, cmd, questions):
        self.cmd = shlex.split(cmd) if cmd else []
        self.questions = questions
        self.use_external = bool(self.cmd)
        self.fallback_reason = None if cmd else "no --accuracy-cmd"
        self.used = set()

    def describe(self):
        """One sentence for the report."""
        parts = []
        if "external" in self.used:
            parts.append("`%s VEC %d < %s` (word2vec.c's compute-accuracy "
                         "rules: words upper-cased, questions with a word "
                         "outside the top %d skipped)"
                         % (shlex.join(self.cmd), ACCURACY_THRESHOLD,
                            os.path.basename(self.questions),
                            ACCURACY_THRESHOLD))
        if "gensim" in self.used:
            why = (" because `%s` failed: %s" % (shlex.join(self.cmd),
                                                  self.fallback_reason)
                   if self.cmd else "")
            parts.append("gensim `KeyedVectors.evaluate_word_analogies(%s, "
                         "restrict_vocab=%d)`%s"
                         % (os.path.basename(self.questions),
                            ACCURACY_THRESHOLD, why))
        return "; ".join(parts) if parts else "not measured"

    def __call__(self, vec):
        """Return (accuracy %, questions seen, None) or (None, None, error)."""
        if self.use_external:
            acc, seen, err = self._external(vec)
            if err is None:
                self.used.add("external")
                return acc, seen, None
            self.use_external = False
            self.fallback_reason = err
            log("accuracy: %s failed (%s); using gensim from now on"
                % (shlex.join(self.cmd), err))
        acc, seen, err = self._gensim(vec)
        if err is None:
            self.used.add("gensim")
            return acc, seen, None
        return None, None, err

    def _external(self, vec):
        try:
            with open(self.questions, "rb") as q:
                r = subprocess.run(self.cmd + [vec, str(ACCURACY_THRESHOLD)],
                                   stdin=q, capture_output=True, timeout=3600)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, None, str(e)
        out = r.stdout.decode("utf-8", "replace")
        totals = re.findall(r"Total accuracy:\s*([-0-9.naif]+)\s*%", out)
        seen = re.findall(r"Questions seen / total:\s*(\d+)", out)
        if r.returncode != 0 or not totals:
            lines = r.stderr.decode("utf-8", "replace").strip().splitlines()
            tail = lines[-1] if lines else "no 'Total accuracy' line"
            return None, None, "exit %d: %s" % (r.returncode, tail[:120])
        return float(totals[-1]), int(seen[-1]) if seen else None, None

    def _gensim(self, vec):
        r = subprocess.run([sys.executable, HARNESS,
                            "_accuracy", vec, self.questions],
                           capture_output=True, text=True)
        if r.returncode != 0:
            lines = r.stderr.strip().splitlines()
            return None, None, lines[-1][:120] if lines else "gensim failed"
        res = json.loads(r.stdout)
        return res["accuracy"], res["seen"], None


def accuracy_main(argv):
    """Hidden subcommand: gensim analogy accuracy of a binary vector file."""
    vec, questions = argv
    import logging
    logging.basicConfig(level=logging.WARNING)
    from gensim.models import KeyedVectors
    kv = KeyedVectors.load_word2vec_format(vec, binary=True)
    score, sections = kv.evaluate_word_analogies(
        questions, restrict_vocab=ACCURACY_THRESHOLD)
    total = sections[-1]
    print(json.dumps({"accuracy": 100.0 * score,
                      "seen": len(total["correct"]) + len(total["incorrect"])}))


def find_questions(explicit):
    """The analogy question file: the one given, else word2vec's bundled with pyw2v."""
    if explicit:
        return explicit
    return BUNDLED_QUESTIONS if os.path.exists(BUNDLED_QUESTIONS) else None
