# HMAC-SHA1 (RFC 2104) in POSIX sh, for adduser.sh. `openssl dgst -hmac KEY` or `-macopt key:KEY`
# would put the registration shared secret on a command line, where `ps` and /proc show it to every
# user of the host; here the key only passes through shell built-ins and pipes.

# hmac_pad HEXKEY PAD: the 64-byte block (key zero-padded, each byte XOR PAD) as printf %b escapes.
hmac_pad() {
  hmac_rest=$1
  hmac_out=''
  hmac_i=0
  while [ "$hmac_i" -lt 64 ]; do
    if [ -n "$hmac_rest" ]; then
      hmac_byte=$((0x$(printf '%.2s' "$hmac_rest")))
      hmac_rest=${hmac_rest#??}
    else
      hmac_byte=0
    fi
    hmac_out="$hmac_out$(printf '\\0%03o' $((hmac_byte ^ $2)))"
    hmac_i=$((hmac_i + 1))
  done
  printf '%s' "$hmac_out"
}

# hex_escapes HEX: the bytes of HEX as printf %b escapes.
hex_escapes() {
  hex_rest=$1
  while [ -n "$hex_rest" ]; do
    printf '\\0%03o' "$((0x$(printf '%.2s' "$hex_rest")))"
    hex_rest=${hex_rest#??}
  done
}

to_hex() {
  od -An -v -tx1 | tr -d ' \n'
}

# hmac_sha1_hex KEY: HMAC-SHA1 of standard input under KEY, as lowercase hex.
hmac_sha1_hex() {
  hmac_key=$(printf '%s' "$1" | to_hex)
  # Keys longer than the 64-byte block are hashed first (RFC 2104, section 2).
  if [ "${#hmac_key}" -gt 128 ]; then
    hmac_key=$(printf '%s' "$1" | openssl dgst -sha1 -binary | to_hex)
  fi
  hmac_inner=$({
    printf '%b' "$(hmac_pad "$hmac_key" 54)"
    cat
  } | openssl dgst -sha1 -binary | to_hex)
  {
    printf '%b' "$(hmac_pad "$hmac_key" 92)"
    printf '%b' "$(hex_escapes "$hmac_inner")"
  } | openssl dgst -sha1 -binary | to_hex
}
