# Sourced by the demo-*.sh scripts (not run on its own).
# Puts the C-named pyw2v commands of this directory first on PATH, and finds
# the training text: the script's first argument, or text8 downloaded into
# the current directory as the original demos do. Every way it can fail ends
# with one line on stderr saying why, and exit status 1.

DEMO_BIN=$(cd "$(dirname "$0")" && pwd)
PATH="$DEMO_BIN:$PATH"
export PATH
THREADS=${THREADS:-$(nproc 2>/dev/null || echo 4)}
TEXT8_URL=${TEXT8_URL:-http://mattmahoney.net/dc/text8.zip}

demo_fail() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# The C-named wrappers in bin/ run the pyw2v commands: without them installed
# the first wrapper would fail half-way through with a shell message.
command -v pyw2v >/dev/null 2>&1 ||
  demo_fail "the pyw2v command is not installed: run 'pip install -e .' in $(dirname "$DEMO_BIN")"

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
    [ -e "$1" ] || demo_fail "cannot read the corpus $1: no such file"
    [ -d "$1" ] && demo_fail "cannot read the corpus $1: it is a directory"
    [ -r "$1" ] || demo_fail "cannot read the corpus $1: permission denied"
    [ -s "$1" ] || demo_fail "the corpus $1 is empty"
    CORPUS=$1
    return
  fi
  if [ ! -e text8 ]; then
    echo "Downloading text8 (31 MB) from $TEXT8_URL ..."
    if ! demo_download "$TEXT8_URL" text8.zip 2>/dev/null; then
      rm -f text8.zip
      demo_fail "could not download text8 (no network?); pass a local text file instead: $0 /path/to/corpus.txt"
    fi
    python3 -m zipfile -e text8.zip . 2>/dev/null || demo_fail "text8.zip is damaged; delete it and retry"
  fi
  CORPUS=text8
}

# demo_questions NAME: sets QUESTIONS to $QUESTIONS if set, else to word2vec's
# NAME bundled with pyw2v (pyw2v/data, beside this bin/ folder).
demo_questions() {
  if [ -n "$QUESTIONS" ]; then
    [ -f "$QUESTIONS" ] && [ -r "$QUESTIONS" ] || demo_fail "cannot read QUESTIONS=$QUESTIONS"
    return
  fi
  QUESTIONS="$(dirname "$DEMO_BIN")/pyw2v/data/$1"
  [ -r "$QUESTIONS" ] || demo_fail "cannot read $QUESTIONS (bundled with pyw2v); set QUESTIONS=/path/to/$1"
}
