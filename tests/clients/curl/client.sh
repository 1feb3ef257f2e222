#!/usr/bin/env bash
# Test client: curl. Knows nothing about llm-vcr: proxy (https_proxy / http_proxy) and CA
# (CURL_CA_BUNDLE) come from the environment.
set -euo pipefail
: "${OPENAI_BASE_URL:?OPENAI_BASE_URL is not set}"
dir="${CLIENT_REQUESTS:-$(dirname "$0")/../requests}"
for name in stream tool_stream chat embeddings; do
  path=/chat/completions
  [[ $name == embeddings ]] && path=/embeddings
  out=$(curl -sS -N --max-time 60 -w '\n%{http_code}' "${OPENAI_BASE_URL%/}$path" \
    -H 'content-type: application/json' -H "authorization: Bearer ${OPENAI_API_KEY:-}" \
    --data-binary "@$dir/$name.json")
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  echo "$name STATUS $status"
  if grep -q '^data:' <<<"$body"; then
    while IFS= read -r line; do
      line=${line%$'\r'}
      [[ $line == data:* ]] || continue
      data=${line#data:}; data=${data# }
      if [[ $data == "[DONE]" ]]; then echo "$name DONE"; else echo "$name DATA $data"; fi
    done <<<"$body"
  else
    echo "$name BODY $(tr -d '\n' <<<"$body")"
  fi
done
