#!/bin/bash
# Trains word vectors and scores them on questions-words.txt (the original demo-word-accuracy.sh).
# Usage: demo-word-accuracy.sh [CORPUS]   (without CORPUS, text8 is downloaded)
set -e
. "$(dirname "$0")/demo-common.sh"
demo_corpus "$1"
demo_questions questions-words.txt
time word2vec -train "$CORPUS" -output vectors.bin -cbow 1 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 -threads "$THREADS" -binary 1 -iter 15
compute-accuracy vectors.bin 30000 < "$QUESTIONS"
