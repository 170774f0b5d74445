#!/bin/bash
# Phrase vectors scored on questions-phrases.txt (the original demo-phrase-accuracy.sh;
# it used a news corpus, text8 here by default).
# Usage: demo-phrase-accuracy.sh [CORPUS]   (without CORPUS, text8 is downloaded)
set -e
. "$(dirname "$0")/demo-common.sh"
demo_corpus "$1"
demo_questions questions-phrases.txt
time word2phrase -train "$CORPUS" -output corpus-phrase0 -threshold 200 -debug 2
time word2phrase -train corpus-phrase0 -output corpus-phrase1 -threshold 100 -debug 2
tr A-Z a-z < corpus-phrase1 > corpus-phrase1-lower
time word2vec -train corpus-phrase1-lower -output vectors-phrase.bin -cbow 1 -size 200 -window 10 -negative 25 -hs 0 -sample 1e-5 -threads "$THREADS" -binary 1 -iter 15
compute-accuracy vectors-phrase.bin < "$QUESTIONS"
