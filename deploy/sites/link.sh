#!/bin/sh
# Links this site to another with RabbitMQ's own tools: this site's crossing events leave through
# the shovel pitlane-to-<other> from the queue pitlane.sites.to.<other> at this node to the exchange
# sites.events at the other site's node (docs/sites.md). It does what `pitlane sites link` does.
#
#   deploy/sites/link.sh THIS_SITE OTHER_SITE OTHER_URI [VHOST]
#   THIS_SITE=north OTHER_SITE=south OTHER_URI='amqp://pitlane-link:secret@south.example:5672/%2F' deploy/sites/link.sh
#
# Arguments win over the environment; VHOST is this site's vhost, "/" unless given. Run it on this
# site's RabbitMQ machine as a user that may run rabbitmqctl and rabbitmq-plugins (root or rabbitmq).
# rabbitmqadmin talks to this node's management API; when its defaults (localhost:15672, guest) do
# not fit, set RABBITMQADMIN to the command with its options:
#   RABBITMQADMIN='rabbitmqadmin -H 127.0.0.1 -P 15672 -u admin -p secret'
# Every step may run again: a second run leaves the same link, the shovel with the definition
# given last. The other site's node needs the user OTHER_URI names, allowed to write to
# sites.events (deploy/sites/README.md, step 2); events the other way need the script run there.
set -eu

THIS_SITE=${1:-${THIS_SITE:-}}
OTHER_SITE=${2:-${OTHER_SITE:-}}
OTHER_URI=${3:-${OTHER_URI:-}}
VHOST=${4:-${VHOST:-/}}
RABBITMQADMIN=${RABBITMQADMIN:-rabbitmqadmin}
RECONNECT_DELAY=${RECONNECT_DELAY:-5}

die() { echo "link.sh: $*" >&2; exit 2; }
[ -n "$THIS_SITE" ] && [ -n "$OTHER_SITE" ] && [ -n "$OTHER_URI" ] ||
  die "usage: link.sh THIS_SITE OTHER_SITE OTHER_URI [VHOST] (or the same names in the environment)"

# Site names go into queue and shovel names: keep them plain.
for name in "$THIS_SITE" "$OTHER_SITE"; do
  case $name in *[!a-z0-9_-]*) die "a site name is lower-case letters, digits, - and _: '$name'" ;; esac
done
[ "$THIS_SITE" != "$OTHER_SITE" ] || die "a site is not linked to itself"
# The URI and the vhost are written into the shovel's JSON below as they are.
case $OTHER_URI in
  amqp://*|amqps://*) ;;
  *) die "OTHER_URI is the other site's AMQP URI, amqp://user:password@host:5672/vhost" ;;
esac
case $OTHER_URI$VHOST in *'"'*|*'\'*) die "no \" or \\ in OTHER_URI or VHOST" ;; esac
# RabbitMQ restarts a shovel after a lost connection only when its reconnect-delay is a positive integer.
case $RECONNECT_DELAY in ''|*[!0-9]*|0) die "RECONNECT_DELAY is whole seconds, at least 1: '$RECONNECT_DELAY'" ;; esac

QUEUE=pitlane.sites.to.$OTHER_SITE
SHOVEL=pitlane-to-$OTHER_SITE
# The shovel's source is this node: "amqp://" is its vhost "/", any other vhost is named in the
# URI's path with "/" and "%" escaped.
if [ "$VHOST" = / ]; then
  SRC_URI=amqp://
else
  SRC_URI=amqp:///$(printf '%s' "$VHOST" | sed 's/%/%25/g; s|/|%2F|g; s/ /%20/g')
fi

echo "linking site $THIS_SITE to $OTHER_SITE (vhost $VHOST)"

# 1. The shovel plugin runs shovels; its management part shows them (Admin, Shovel Status) and
#    answers shovel_status. Enabling a plugin that is on already changes nothing.
rabbitmq-plugins enable rabbitmq_shovel rabbitmq_shovel_management

# 2. The two exchanges of sites, as pitlane declares them: sites.outbound, where the relay
#    publishes the crossing events; sites.events, where the other sites' shovels deliver theirs.
$RABBITMQADMIN -V "$VHOST" declare exchange name=sites.outbound type=topic durable=true
$RABBITMQADMIN -V "$VHOST" declare exchange name=sites.events type=topic durable=true

# 3. The queue where events for the other site wait while the link is cut (durable, so they
#    outlive a restart of this node), bound to sites.outbound with "#": every crossing event.
$RABBITMQADMIN -V "$VHOST" declare queue name="$QUEUE" durable=true
$RABBITMQADMIN -V "$VHOST" declare binding source=sites.outbound destination="$QUEUE" \
  destination_type=queue routing_key='#'

# 4. The shovel, a runtime parameter of this node: from the queue to sites.events at the other
#    site, routing keys kept. on-confirm acknowledges a message here only once the other broker
#    has confirmed it (a copy sent twice is dropped by the receiving inbox); reconnect-delay is
#    the seconds between tries while the other site cannot be reached.
VALUE=$(printf '{"src-protocol": "amqp091", "src-uri": "%s", "src-queue": "%s", "dest-protocol": "amqp091", "dest-uri": "%s", "dest-exchange": "sites.events", "ack-mode": "on-confirm", "reconnect-delay": %s}' \
  "$SRC_URI" "$QUEUE" "$OTHER_URI" "$RECONNECT_DELAY")
rabbitmqctl set_parameter -p "$VHOST" shovel "$SHOVEL" "$VALUE"

# 5. The shovels of this node and their state: "running" once connected to the other site;
#    "starting" or "terminated" (with the reason) while it cannot reach it. A shovel set a moment
#    ago may still be starting: run `rabbitmqctl shovel_status` again.
sleep 2
rabbitmqctl shovel_status
echo "unlink: rabbitmqctl clear_parameter -p '$VHOST' shovel $SHOVEL"
