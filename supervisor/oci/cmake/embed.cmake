# Writes OUTPUT, a C++ file defining berth::oci::data::<SYMBOL> (the bytes of
# INPUT, NUL-terminated) and <SYMBOL>Size, so the library carries its data
# file and berthd needs nothing installed beside it.
#   cmake -DINPUT=... -DOUTPUT=... -DSYMBOL=... -P embed.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed.cmake: do not edit.\n"
  "#include <cstddef>\n"
  "namespace berth::oci::data {\n"
  "extern const char ${SYMBOL}[];\n"
  "extern const size_t ${SYMBOL}Size;\n"
  "const char ${SYMBOL}[] = {\n${bytes}0x00};\n"
  "const size_t ${SYMBOL}Size = ${size};\n"
  "}  // namespace berth::oci::data\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
