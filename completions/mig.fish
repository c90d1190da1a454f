# fish completion for mig. Every candidate and what it is come from the
# binaries: commands from mig --list-commands=described, options from
# mig [CMD] --list-options=described, revisions and the spec words from
# 'mig status --list-revisions=described', an option's values from
# mig CMD --list-values=OPTION, snapshots from 'mig backup --list --porcelain'.

# __mig_described CMD...: what CMD lists, one NAME<TAB>DESCRIPTION a
# line, escaped as in --porcelain (\\, \t, \n, \xHH), as fish takes
# candidates: the name unescaped, and left out when it holds a control
# character (fish's candidates are lines, split at the first tab)
function __mig_described
    for line in ($argv 2>/dev/null)
        set -l f (string split -m1 \t -- $line)
        # \\ stands for a backslash; any other escape, for a control character
        set -l name (string replace -a -- '\\\\' \e $f[1])
        string match -qr -- '\\\\' $name; and continue
        printf '%s\t%s\n' (string replace -a -- \e '\\' $name) "$f[2]"
    end
end

# the global options given before the command (with --globals), or the
# command, if one was given
function __mig_words
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case -C -d --database -m --migrations --store
                contains -- --globals $argv; and printf '%s\n' $words[1..2]
                set -e words[1..2]
            case '-*'
                contains -- --globals $argv; and echo $words[1]
                set -e words[1]
            case '*'
                contains -- --globals $argv; or echo $words[1]
                return 0
        end
    end
    contains -- --globals $argv
end

function __mig_complete
    set -l cur (commandline -ct)
    set -l cmd (__mig_words)
    or begin
        if string match -q -- '-*' $cur
            __mig_described mig --list-options=described | string replace -r -- '=\t' \t
        else
            __mig_described mig --list-commands=described
        end
        return
    end
    set -l prev (commandline -opc)[-1]
    switch "$cmd:$prev"
        case 'backup:-o' 'backup:--output' 'restore:-i' 'restore:--input'
            __fish_complete_path $cur
            return
    end
    # an option whose value is one of a few words (fake --resolve), from the binary
    if string match -q -- '--*' $prev; and not string match -q -- '-*' $cur
        set -l vals (mig $cmd --list-values=$prev 2>/dev/null)
        if set -q vals[1]
            printf '%s\n' $vals
            return
        end
    end
    if string match -qr -- '^--[^=]+=' $cur
        set -l opt (string replace -r '=.*' '' -- $cur)
        set -l vals (mig $cmd --list-values=$opt 2>/dev/null)
        if set -q vals[1]
            printf "$opt=%s\n" $vals
            return
        end
    end
    if string match -q -- '-*' $cur
        __mig_described mig $cmd --list-options=described | string replace -r -- '=\t' \t
        return
    end
    set -l g (__mig_words --globals)
    switch $cmd
        case up down redo diff sqlshow fake merge
            __mig_described mig $g status --list-revisions=described
        case restore backup
            # the id's first 12 digits, when it was taken (UTC) and its message
            mig $g backup --list --porcelain 2>/dev/null |
                awk -F '\t' '{ t = $3; sub(/T/, " ", t); sub(/:[0-9]+Z$/, "", t); print substr($2, 1, 12) "\t" t " " $7 }'
        case help
            __mig_described mig --list-commands=described
    end
end

complete -c mig -f -a '(__mig_complete)'
