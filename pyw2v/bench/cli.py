"""Entry point: parse the options, run the benchmark, write the report and its picture."""
import datetime
import os
import sys

from .accuracy import Evaluator, accuracy_main, find_questions
from .chart import chart_data, chart_main, chart_title, data_from_report, draw_chart
from .common import log
from .corpus import corpus_stats, count_words_main, prepare_corpus
from .jobs import gensim_train_main
from .options import parse_args
from .report import render_report
from .runs import run_benchmark, summarize
from .spark import sentence_file, spark_versions

HIDDEN = {"_gensim-train": gensim_train_main, "_accuracy": accuracy_main,
          "_corpus-stats": count_words_main, "_chart": chart_main}


def main(argv):
    """Entry point: run the benchmark, print and save the report."""
    if argv and argv[0] in HIDDEN:
        return HIDDEN[argv[0]](argv[1:]) or 0
    args = parse_args(argv)
    if args.redraw:
        return redraw(args.redraw)
    started = datetime.datetime.now().astimezone()
    if not os.path.exists(args.corpus):
        print("bench: skipping: corpus %s not found" % args.corpus)
        return 0
    questions = None if args.no_accuracy else find_questions(args.questions)
    if not args.no_accuracy and not questions:
        print("bench: no questions-words.txt found; running without accuracy "
              "(give --questions)", file=sys.stderr)
        args.no_accuracy = True

    train = prepare_corpus(args.corpus, args.prefix_bytes, args.cache_dir)
    stats = corpus_stats(train, args.min_count, args.cache_dir)
    if "spark" in args.systems:
        args.spark_sentences = sentence_file(train, args.cache_dir)
        args.spark_versions = spark_versions(args.spark_python)
    run_dir = os.path.join(args.cache_dir, "runs", "%s-%s" % (
        args.name, started.strftime("%Y%m%d-%H%M%S")))
    os.makedirs(run_dir, exist_ok=True)
    log("corpus %s: %s training words/epoch; logs in %s"
        % (train, f"{stats['train_words']:,}", run_dir))

    evaluator = Evaluator(args.accuracy_cmd, questions)
    runs = run_benchmark(args, train, run_dir, evaluator)
    rows = summarize(runs, stats["train_words"], args.iter)
    os.makedirs(args.out_dir, exist_ok=True)
    picture = os.path.join(args.out_dir, args.name + ".png")
    title = chart_title(args.name, stats["train_words"], args.iter, args.threads)
    no_picture = draw_chart(chart_data(rows, title), picture)
    if no_picture:
        log("no picture: %s" % no_picture)
    report = render_report(args, argv, train, stats, rows, runs, evaluator,
                           started, None if no_picture else os.path.basename(picture),
                           no_picture)
    print(report)
    path = os.path.join(args.out_dir, args.name + ".md")
    with open(path + ".part", "w") as f:
        f.write(report)
    os.replace(path + ".part", path)
    log("report written to %s" % path)
    return 0



def redraw(report_path):
    """Draw the picture of an existing report, beside it (``<name>.png``)."""
    try:
        with open(report_path) as f:
            data = data_from_report(f.read())
    except (OSError, ValueError) as exc:
        print("bench: cannot redraw %s: %s" % (report_path, exc), file=sys.stderr)
        return 1
    picture = os.path.splitext(report_path)[0] + ".png"
    no_picture = draw_chart(data, picture)
    if no_picture:
        print("bench: no picture: %s" % no_picture, file=sys.stderr)
        return 1
    log("picture written to %s" % picture)
    return 0
