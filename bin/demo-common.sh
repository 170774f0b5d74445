# Sourced by the demo-*.sh scripts (not run on its own).
# Puts the C-named pyw2v commands of this directory first on PATH, and finds
# the training text: the script's first argument, or text8 downloaded into
# the current directory as the original demos do.

DEMO_BIN=$(cd "$(dirname "$0")" && pwd)
PATH="$DEMO_BIN:$PATH"
export PATH
THREADS=${THREADS:-$(nproc 2>/dev/null || echo 4)}

demo_fail() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# demo_download URL FILE: fetch with Python (always there, unlike wget/curl).
demo_download() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, urllib.request
socket.setdefaulttimeout(60)
urllib.request.urlretrieve(sys.argv[1], sys.argv[2])
PY
}

# demo_corpus [PATH]: sets CORPUS.
demo_corpus() {
  if [ -n "$1" ]; then
    [ -f "$1" ] && [ -r "$1" ] || demo_fail "cannot read the corpus $1"
    CORPUS=$1
    return
  fi
  if [ ! -e text8 ]; then
    echo "Downloading text8 (31 MB) from mattmahoney.net ..."
    if ! demo_download http://mattmahoney.net/dc/text8.zip text8.zip 2>/dev/null; then
      rm -f text8.zip
      demo_fail "could not download text8 (no network?); pass a local text file instead: $0 /path/to/corpus.txt"
    fi
    python3 -m zipfile -e text8.zip . || demo_fail "text8.zip is damaged; delete it and retry"
  fi
  CORPUS=text8
}

# demo_questions NAME: sets QUESTIONS to NAME here, $QUESTIONS if set, gensim's copy, or a download.
demo_questions() {
  if [ -n "$QUESTIONS" ]; then
    [ -r "$QUESTIONS" ] || demo_fail "cannot read QUESTIONS=$QUESTIONS"
    return
  fi
  if [ -e "$1" ]; then QUESTIONS=$1; return; fi
  QUESTIONS=$(python3 -c "from gensim.test.utils import datapath; import os, sys; p = datapath(sys.argv[1]); print(p if os.path.exists(p) else '')" "$1" 2>/dev/null)
  [ -n "$QUESTIONS" ] && return
  if demo_download "https://raw.githubusercontent.com/tmikolov/word2vec/master/$1" "$1" 2>/dev/null; then
    QUESTIONS=$1
    return
  fi
  rm -f "$1"
  demo_fail "$1 not found: put it in the current directory or set QUESTIONS=/path/to/$1 (it is in https://github.com/tmikolov/word2vec)"
}
