#!/bin/sh
# The three-instance configuration (SENDCONTACT_CONFIG) that the load
# benchmark measures (tools/load/run.sh) and the profile-guided build trains
# on (tools/pgo/train.sh), printed on stdout for a mock GREEN-API at
# MOCK_ADDR (host:port), which answers any instance id and token.
#
#   sh tools/load/instances.sh 127.0.0.1:18081 >instances.toml
#
# The forms' commands name ten chats: the bare numbers only telegram takes
# (rule: chat form); the WhatsApp ids both WhatsApp instances take, so the
# channel decides (rule: channel), and the forms' 1,000 channels are split
# between them. The aliases are looked up for every command, as in a real
# file. Tokens come from GREEN_API_TOKEN_TELEGRAM, _WHATSAPP and _WHATSAPP2.
set -eu
mock=$1
channels() { seq "$1" "$2" | sed 's/^/"C0/; s/$/",/' | tr -d '\n'; }
cat <<TOML
[[instances]]
name = "telegram"
url = "http://$mock"
id_instance = "1101000001"
token_env = "GREEN_API_TOKEN_TELEGRAM"
kind = "telegram"

[[instances]]
name = "whatsapp"
url = "http://$mock"
id_instance = "7105000002"
token_env = "GREEN_API_TOKEN_WHATSAPP"
kind = "whatsapp"
channels = [$(channels 30000000 30000499)]

[[instances]]
name = "whatsapp2"
url = "http://$mock"
id_instance = "7105000003"
token_env = "GREEN_API_TOKEN_WHATSAPP2"
kind = "whatsapp"
channels = [$(channels 30000500 30000999)]

[chats]
sales = { instance = "whatsapp", chat_id = "120363043968066561@g.us" }
support = { instance = "telegram", chat_id = "-10000000000000" }
"продажи" = { instance = "whatsapp2", chat_id = "79876543210@c.us" }
TOML
