#!/bin/sh
# Make DIR/mig-* wrappers that run bin/mig-* under valgrind, following
# the front end into the command it runs; an error (or a definite leak)
# exits 99, which no test expects.  usage: tools/vg-wrap.sh BINDIR DIR
set -e
bin=$(cd "$1" && pwd)
mkdir -p "$2"
for f in "$bin"/mig*; do
	name=${f##*/}
	cat >"$2/$name" <<EOS
#!/bin/sh
exec valgrind -q --error-exitcode=99 --trace-children=yes --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--suppressions="$bin/../tools/valgrind.supp" "$f" "\$@"
EOS
	chmod +x "$2/$name"
done
