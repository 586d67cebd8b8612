#!/usr/bin/env bash
# Prepare this machine for pitlane: RabbitMQ (with plugins) and PostgreSQL running, venv installed.
# Installs Debian packages only when run as root with apt-get; otherwise prints the commands.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
as_root() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; }

missing=()
command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v promtool >/dev/null || missing+=(prometheus)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the console's browser tests (Playwright drives it)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)  # the stack through PgBouncer (docs/scaling.md), tested in CI
command -v npm >/dev/null || missing+=(npm)  # the official AsyncAPI schemas the event document is validated with
if [ ${#missing[@]} -gt 0 ]; then
  if as_root; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" pgbouncer "* ]]; then
      # Debian's package starts and enables a system PgBouncer on localhost:6432 (/etc/pgbouncer,
      # md5 auth, no databases) where a service manager lets it. pitlane never uses that one:
      # `pitlane pgbouncer-config` writes a configuration of its own, and the tests start private
      # ones on free ports. So it is stopped and kept from starting at boot, and 6432 stays free for
      # the PgBouncer you configure. (Only the one this script just installed: an existing
      # PgBouncer is never touched.)
      say "stopping the system pgbouncer service the package started; pitlane runs its own"
      if [ -d /run/systemd/system ]; then
        systemctl disable --now pgbouncer >/dev/null 2>&1 || true
      else
        service pgbouncer stop >/dev/null 2>&1 || true
        update-rc.d pgbouncer disable >/dev/null 2>&1 || true
        ! command -v systemctl >/dev/null || systemctl disable pgbouncer >/dev/null 2>&1 || true
      fi
    fi
  elif [[ " ${missing[*]} " == *" rabbitmq-server "* || " ${missing[*]} " == *" postgresql "* ]]; then
    say "missing: ${missing[*]}. Install them with:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  else
    say "missing ${missing[*]}: alert-rule tests are skipped without prometheus, the console's browser"
    say "tests fail without chromium, the PgBouncer test is skipped without pgbouncer, and the README's"
    say "curl walk-through needs jq"
    say "(sudo apt-get install -y ${missing[*]})"
  fi
fi

# PostgreSQL: start the cluster if it is down.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  say "starting PostgreSQL"
  if [ "$(id -u)" -eq 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  else
    sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { say "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }

# RabbitMQ: start it if down, then make sure the management, shovel and prometheus plugins are on.
rabbit_up() { rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; }
if ! rabbit_up; then
  say "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
fi
rabbit_up || { say "RabbitMQ did not come up on 127.0.0.1:5672"; exit 1; }
plugins="rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management rabbitmq_prometheus"
enabled=$(rabbitmq-plugins list -e -m 2>/dev/null || true)
for p in $plugins; do
  if ! grep -qx "$p" <<<"$enabled"; then
    say "enabling RabbitMQ plugins"
    rabbitmq-plugins enable $plugins >/dev/null
    break
  fi
done
for _ in $(seq 1 30); do
  curl -fs -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break; sleep 1
done

# Python: a venv with pitlane and its test tools, reinstalled when pyproject.toml changes.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.pitlane-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing Python packages"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi

# The AsyncAPI initiative's own JSON schemas (npm's @asyncapi/specs), for the test that validates the
# event stream's document (tests/unit/gateway/test_asyncapi.py); nothing else uses them.
specs=.venv/asyncapi-specs/node_modules/@asyncapi/specs/package.json
if command -v npm >/dev/null && ! grep -q '"version": "6.11.1"' "$specs" 2>/dev/null; then
  say "installing the AsyncAPI schemas"
  npm install --prefix .venv/asyncapi-specs --no-save --no-package-lock --no-audit --no-fund \
    @asyncapi/specs@6.11.1 >/dev/null
fi
say "ready"
