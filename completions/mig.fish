# fish completion for mig: commands and options asked from the binaries
# (mig --list-commands, mig CMD --list-options, an option's values from
# mig CMD --list-values=OPTION), revisions from
# 'mig status --list-revisions', snapshots from 'mig backup --list --porcelain'.

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
    set -l cmd (__mig_words)
    or begin
        mig --list-commands 2>/dev/null
        return
    end
    set -l cur (commandline -ct)
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
        mig $cmd --list-options 2>/dev/null | string replace -r '=$' ''
        return
    end
    set -l g (__mig_words --globals)
    switch $cmd
        case up down redo diff sqlshow fake merge
            mig $g status --list-revisions 2>/dev/null
        case restore backup
            mig $g backup --list --porcelain 2>/dev/null | cut -f2 | cut -c1-12
        case help
            mig --list-commands 2>/dev/null
    end
end

complete -c mig -f -a '(__mig_complete)'
