#!/bin/sh
# The ordinary-user workload of the v9fs test, run in the guest (busybox sh) as a non-root user
# on the 9P mount: `workload.sh MOUNT DATA VERSION`. DATA holds src.bin (1 MiB of random bytes) and
# src.sha256 / src.md5 (computed on the host); VERSION is the mount's dialect. Each step prints
#   @@V9FS STEP <name> PASS|FAIL [detail]
# and the run ends with "@@V9FS WORKLOAD pass=N fail=M". It leaves MOUNT/work in a known state
# the host then checks in the export directory (see expectedHostState in harness.ts).
M=$1; D=$2; V=${3:-9p2000.L}
P=0; F=0
t() { cut -d' ' -f1 /proc/uptime; }
pass() { P=$((P + 1)); echo "@@V9FS STEP $1 PASS @$(t)"; }
fail() { F=$((F + 1)); echo "@@V9FS STEP $1 FAIL $2 @$(t)"; }
# check NAME 'what' ACTUAL EXPECTED
check() { if [ "$3" = "$4" ]; then pass "$1"; else fail "$1" "$2: got [$3] want [$4]"; fi; }
nl='
'
cd "$M" || { fail cd "cannot cd to $M"; echo "@@V9FS WORKLOAD pass=$P fail=$F"; exit 1; }
echo "@@V9FS INFO id=$(id) pwd=$(pwd)"

mkdir -p work/a/b/c 2>&1 && [ -d work/a/b/c ] && pass mkdir_p || fail mkdir_p "mkdir -p work/a/b/c"
mkdir -p work/a/b/c 2>&1 && pass mkdir_p_again || fail mkdir_p_again "mkdir -p on existing tree"
mkdir work/a 2>/dev/null && fail mkdir_exists "mkdir of an existing dir succeeded" || pass mkdir_exists
cd work || exit 1

echo hello > file
check write_cat "cat after echo >" "$(cat file)" hello
echo world >> file
check append "cat after >>" "$(cat file)" "hello${nl}world"
check append_size "stat -c %s" "$(stat -c %s file)" 12
printf 'new\n' > file2; printf 'x\n' > file2
check overwrite_trunc "> truncates" "$(cat file2)" x

cp file copy && cmp -s file copy && pass cp || fail cp "cp file copy; cmp"
mv copy a/b/moved 2>&1
if [ ! -e copy ] && [ "$(cat a/b/moved)" = "hello${nl}world" ]; then pass mv; else fail mv "copy still there or moved wrong"; fi
mv file2 a/b/moved2 && mv a/b/moved2 file2 && check mv_back "mv there and back" "$(cat file2)" x
mv file2 renamed 2>&1
if [ -e renamed ] && [ ! -e file2 ]; then mv renamed file2 2>&1; pass mv_same_dir; else fail mv_same_dir "mv file2 renamed (same directory)"; fi
cp file over; mv over file2 2>&1
check mv_over "mv over an existing file" "$(cat file2)" "hello${nl}world"
rm -f over

ln -s a/b/moved link 2>&1
check symlink_readlink "readlink" "$(readlink link)" a/b/moved
[ -L link ] && pass symlink_is_link || fail symlink_is_link "test -L"
check symlink_follow "cat through link" "$(cat link)" "hello${nl}world"
ln -s /nonexistent/abs dangling
check symlink_dangling "readlink of dangling" "$(readlink dangling)" /nonexistent/abs
ln file hard 2>&1
check hardlink_content "cat of the link" "$(cat hard)" "$(cat file)"
# 9P2000.u's stat has no link count: the kernel shows 1 for every file there.
if [ "$V" = 9p2000.u ]; then want=1; else want=2; fi
check hardlink_nlink "stat -c %h" "$(stat -c %h file)" "$want"
rm hard

chmod 640 file
check chmod_640 "stat -c %a" "$(stat -c %a file)" 640
chmod 755 a
check chmod_dir_755 "stat -c %a" "$(stat -c %a a)" 755
chmod u+x,g-r file
check chmod_symbolic "stat -c %a" "$(stat -c %a file)" 700
chmod 600 file
check chmod_600 "stat -c %a" "$(stat -c %a file)" 600
touch -d '2001-02-03 04:05:06' file2 2>&1
check touch_mtime "stat -c %Y" "$(stat -c %Y file2)" 981173106

truncate -s 3 file
check truncate_shrink "cat" "$(cat file)" hel
truncate -s 100 file
check truncate_grow "stat -c %s" "$(stat -c %s file)" 100
check truncate_grow_zeros "bytes 3..99" "$(tail -c 97 file | od -An -v -tx1 | tr -d ' \n' | tr -d 0)" ""
truncate -s 0 file; echo final >> file
check truncate_append "cat" "$(cat file)" final

dd if="$D/src.bin" of=big.bin bs=1M 2>/dev/null
check big_size "stat -c %s" "$(stat -c %s big.bin)" 1048576
check big_sha256 "sha256sum" "$(sha256sum < big.bin | cut -d' ' -f1)" "$(cat "$D/src.sha256")"
check big_md5 "md5sum" "$(md5sum < big.bin | cut -d' ' -f1)" "$(cat "$D/src.md5")"
dd if="$D/src.bin" of=big4k.bin bs=4096 2>/dev/null
cmp -s big4k.bin "$D/src.bin" && pass big_write_4k || fail big_write_4k "cmp after dd bs=4096"
dd if=big.bin of=/tmp/back.bin bs=65536 2>/dev/null
cmp -s /tmp/back.bin "$D/src.bin" && pass big_read_64k || fail big_read_64k "cmp after reading with bs=65536"
rm -f /tmp/back.bin big4k.bin

mkdir -p tree/x/y tree/empty
echo one > tree/one; echo two > tree/x/two; head -c 70000 "$D/src.bin" > tree/x/y/blob
chmod 751 tree/x; chmod 604 tree/one
ln -s ../one tree/x/up
tar cf t.tar tree 2>&1 && pass tar_c || fail tar_c "tar cf"
mkdir untar && tar xf t.tar -C untar 2>&1 && pass tar_x || fail tar_x "tar xf"
diff -r tree untar/tree >/dev/null 2>&1 && pass tar_diff || fail tar_diff "diff -r"
l1=$(cd tree && find . | sort | while read f; do echo "$f $(stat -c '%a %F %s' "$f" | sed 's/ [0-9]*$//;') $( [ -L "$f" ] && readlink "$f")"; done)
l2=$(cd untar/tree && find . | sort | while read f; do echo "$f $(stat -c '%a %F %s' "$f" | sed 's/ [0-9]*$//;') $( [ -L "$f" ] && readlink "$f")"; done)
check tar_modes_links "modes/types/links after tar x" "$l2" "$l1"
tar cf - tree | tar tf - | sort > /tmp/list
check tar_pipe "tar c | tar t" "$(wc -l < /tmp/list | tr -d " ")" 8

ls -la . | sed 's/^/@@V9FS LS /'
names=$(ls -a | tr '\n' ' ')
# A 9P2000(.u) directory read carries no . and .. entries, and v9fs does not add them.
if [ "$V" = 9p2000.u ]; then dots=; else dots=". .. "; fi
check ls_names "ls -a" "$names" "${dots}a big.bin dangling file file2 link t.tar tree untar "
check ls_count "ls a/b" "$(ls a/b | tr '\n' ' ')" "c moved "

# A directory of 300 entries, listed twice, then changed and listed again: the listing follows.
mkdir many && i=0 && while [ $i -lt 300 ]; do : > many/entry-$i; i=$((i + 1)); done
check many_ls "ls of 300 entries" "$(ls many | sort -u | wc -l | tr -d ' ')" 300
if [ -n "$dots" ]; then want=302; else want=300; fi
check many_ls_again "ls -a of 300 entries again" "$(ls -a many | sort -u | wc -l | tr -d ' ')" $want
: > many/late; rm many/entry-7
check many_changed "ls after a create and an unlink" "$(ls many | grep -c -e '^late$' -e '^entry-7$') $(ls many | wc -l | tr -d ' ')" "1 300"
rm -r many && [ ! -e many ] && pass many_rm || fail many_rm "rm -r many"

rm -r untar 2>&1 && [ ! -e untar ] && pass rm_r || fail rm_r "rm -r untar"
rmdir a 2>/dev/null && fail rmdir_nonempty "rmdir of a non-empty dir succeeded" || pass rmdir_nonempty
rm t.tar dangling
check rm_files "ls after rm" "$(ls | tr '\n' ' ')" "a big.bin file file2 link tree "
mkdir -p gone/deep/er && echo x > gone/deep/er/f && rm -rf gone && [ ! -e gone ] && pass rm_rf || fail rm_rf "rm -rf gone"

echo "@@V9FS WORKLOAD pass=$P fail=$F"
[ "$F" = 0 ]
