"""What a run prints while it trains: C's progress line, and pyw2v's optional loss.

The progress line is C's ``-debug 2`` line (alpha, progress, words per
thread and second) with an ETA added. C prints it whenever a thread has
trained another 10,000 words; here it is printed on a timer, and a line
equal to the last one is left out (while the kernels compile on a cold
cache no word is trained, and a redirected log would get the same line
every tick).

With ``-loss 1`` (pyw2v only) the line also shows ``Loss:``, the mean loss
per word trained since the previous line, and each finished epoch prints
``Epoch: N  Loss: X`` on a line of its own. The loss of a word is the sum,
over the outputs it trained, of ``-log sigmoid(f)`` for a positive output
(label 1) and ``-log sigmoid(-f)`` for a negative one: with hierarchical
softmax the nodes of the word's Huffman path (those C does not skip as
saturated), with negative sampling the word and its noise words, with both
the two sums added (-log sigmoid read from a table at C's sigmoid index inside
(-MAX_EXP, MAX_EXP), computed outside). Skip-gram counts a position once, for all of its
context words; a position with no context word trains nothing and is not
counted.
"""
import time

import numpy as np

from .training.loop import DONE, EPOCH


class Progress:
    """The progress line and the loss lines of one run (see the module's docstring)."""

    speed_label = "Words/thread/sec"

    def __init__(self, options, train_words, out, loss):
        self.enabled = options.debug > 1
        self.total = options.iter * train_words + 1
        self.starting_alpha = options.starting_alpha
        self.out = out
        self.sums = loss[..., :2] if options.loss else None  # (loss, words) per thread and epoch
        self.iterations = options.iter
        self.epochs_printed = 0
        self.last_sums = np.zeros(2)
        self.wall_start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.last_line = None

    def report(self, control):
        self._print_finished_epochs(control)
        if not self.enabled:
            return
        done = int(control.words_done.sum())
        fraction = done / self.total
        alpha = max(self.starting_alpha * (1 - fraction), self.starting_alpha * 1e-4)
        cpu = time.process_time() - self.cpu_start + 1e-6
        wall = time.perf_counter() - self.wall_start
        eta = wall * (1 - fraction) / fraction if fraction > 0 else 0.0
        line = "\rAlpha: %f  Progress: %.2f%%  %s: %.2fk  ETA: %s  " % (
            alpha, fraction * 100, self.speed_label, self.speed(done, wall, cpu), _clock(eta),
        )
        if self.sums is not None:
            sums = self.sums.sum(axis=(0, 1))
            recent = sums - self.last_sums
            if recent[1] > 0:
                self.last_sums = sums
                self.recent_loss = recent[0] / recent[1]
            line += ("Loss: %.4f  " % self.recent_loss) if hasattr(self, "recent_loss") else "Loss: -  "
        if line == self.last_line:
            return
        self.last_line = line
        self.out.write(line)
        self.out.flush()

    def speed(self, done, wall, cpu):
        """The thousands of words a second shown after :attr:`speed_label` (C's: per CPU second)."""
        return done / cpu / 1000

    def finish(self, control):
        """The last progress line, and the loss lines of the epochs not printed yet.

        Returns each epoch's mean loss per word trained, or ``None`` without ``-loss 1``.
        """
        if self.enabled:
            self.report(control)
            self.out.write("\n")
            self.out.flush()
            self.last_line = None
        self._print_finished_epochs(control, all_done=True)
        return None if self.sums is None else epoch_losses(self.sums)

    def _print_finished_epochs(self, control, all_done=False):
        if self.sums is None:
            return
        if all_done:
            finished = self.iterations
        else:
            # An epoch is over once every thread still training is past it.
            running = control.cursors[:, DONE] == 0
            finished = int(control.cursors[running, EPOCH].min()) if running.any() else self.iterations
        losses = epoch_losses(self.sums)
        while self.epochs_printed < finished:
            if self.last_line is not None:
                self.out.write("\n")  # end the progress line on screen
            self.out.write("Epoch: %d  Loss: %.4f\n" % (self.epochs_printed + 1, losses[self.epochs_printed]))
            self.out.flush()
            self.epochs_printed += 1
            self.last_line = None


def epoch_losses(sums):
    """Each epoch's summed loss over its words trained, from the threads' ``(loss, words)`` sums."""
    totals = sums.sum(axis=0)
    return [float(loss / words) if words else float("nan") for loss, words in totals]


def _clock(seconds):
    # C's word count can pass iter × train words by a few sentences: no time is left then, not -1:59:59
    seconds = max(0, int(round(seconds)))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
