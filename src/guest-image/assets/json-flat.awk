# Flattens one JSON document into "path<TAB>value" lines (busybox awk): objects join keys with ".", arrays use
# the index, e.g. public_keys.mykey, links.0.ethernet_mac_address. Strings are unescaped (control characters
# become spaces, non-ASCII \u escapes "?"); numbers, true, false and null are printed as written. On a syntax
# error it prints what it parsed so far and exits 1.
{ src = src $0 "\n" }

END {
  s = src; n = length(s); pos = 1; err = 0
  value("")
  if (!err) { ws(); if (pos <= n) err = 1 }
  exit err
}

function ws() {
  while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0) pos++
}

function hexval(h,   i, v, d) {
  v = 0
  for (i = 1; i <= length(h); i++) {
    d = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
    if (d < 0) return -1
    v = v * 16 + d
  }
  return v
}

function str(   out, c, code, rest) {
  pos++
  out = ""
  while (pos <= n) {
    rest = substr(s, pos)
    if (match(rest, /^[^"\\]+/)) {
      out = out substr(rest, 1, RLENGTH)
      pos += RLENGTH
      continue
    }
    c = substr(s, pos, 1)
    if (c == "\"") { pos++; gsub(/[\001-\037]/, " ", out); return out }
    c = substr(s, pos + 1, 1)
    pos += 2
    if (c == "u") {
      code = hexval(substr(s, pos, 4))
      pos += 4
      if (code >= 32 && code < 127) out = out sprintf("%c", code)
      else if (code >= 0 && code < 32) out = out " "
      else out = out "?"
    } else if (c == "n" || c == "r" || c == "t" || c == "b" || c == "f") out = out " "
    else out = out c
  }
  err = 1
  return out
}

function join(path, key) { return path == "" ? key : path "." key }

function value(path,   c, key, i) {
  ws()
  c = substr(s, pos, 1)
  if (c == "{") {
    pos++; ws()
    if (substr(s, pos, 1) == "}") { pos++; return }
    while (!err) {
      ws()
      if (substr(s, pos, 1) != "\"") { err = 1; return }
      key = str(); ws()
      if (substr(s, pos, 1) != ":") { err = 1; return }
      pos++
      value(join(path, key))
      if (err) return
      ws(); c = substr(s, pos, 1); pos++
      if (c == "}") return
      if (c != ",") { err = 1; return }
    }
  } else if (c == "[") {
    pos++; ws()
    if (substr(s, pos, 1) == "]") { pos++; return }
    for (i = 0; !err; i++) {
      value(join(path, i))
      if (err) return
      ws(); c = substr(s, pos, 1); pos++
      if (c == "]") return
      if (c != ",") { err = 1; return }
    }
  } else if (c == "\"") {
    c = str()
    if (!err) print path "\t" c
  } else if (match(substr(s, pos), /^[-+0-9.eEa-z]+/)) {
    print path "\t" substr(s, pos, RLENGTH)
    pos += RLENGTH
  } else err = 1
}
