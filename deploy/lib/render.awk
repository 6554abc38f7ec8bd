# Renders one template: `@@NAME@@` becomes the value of the environment variable R_NAME, and
# lines between `#@if NAME` and `#@endif` (with an optional `#@else`) stay only when R_NAME is set
# and is not "no". Blocks nest. A placeholder without a value is an error, so a typo in a template
# never renders an empty setting.
#   awk -f render.awk template > output
function fail(message) {
  printf "render: %s:%d: %s\n", FILENAME, FNR, message > "/dev/stderr"
  failed = 1
  exit 1
}
function truthy(name,    value) {
  value = ENVIRON["R_" name]
  return value != "" && value != "no"
}
BEGIN { depth = 0; active[0] = 1 }
/^[ \t]*#@if [A-Z0-9_]+[ \t]*$/ {
  name = $2
  depth++
  parent[depth] = active[depth - 1]
  cond[depth] = truthy(name)
  active[depth] = parent[depth] && cond[depth]
  next
}
/^[ \t]*#@else[ \t]*$/ {
  if (depth == 0) fail("#@else without #@if")
  active[depth] = parent[depth] && !cond[depth]
  next
}
/^[ \t]*#@endif[ \t]*$/ {
  if (depth == 0) fail("#@endif without #@if")
  depth--
  next
}
{
  if (!active[depth]) next
  line = $0
  out = ""
  while (match(line, /@@[A-Z0-9_]+@@/)) {
    name = substr(line, RSTART + 2, RLENGTH - 4)
    if (!(("R_" name) in ENVIRON)) fail("no value for @@" name "@@")
    out = out substr(line, 1, RSTART - 1) ENVIRON["R_" name]
    line = substr(line, RSTART + RLENGTH)
  }
  print out line
}
END {
  if (!failed && depth != 0) fail("#@if without #@endif")
}
