# fish completion for imginspect: generated from the click command by scripts/generate;
# do not edit. Put it in a directory of $fish_complete_path, or source it.

function __imginspect_complete
    set -l token (commandline -ct)
    set -l response (env _IMGINSPECT_COMPLETE=fish_complete COMP_WORDS=(commandline -cp) \
        COMP_CWORD=$token imginspect 2>/dev/null)
    # For --opt=val, imginspect answers values alone: put the --opt= back for fish.
    set -l keep
    if string match -q -- '-*=*' $token
        set keep (string replace -r '=.*' '=' -- $token)
    end
    for line in $response
        set -l fields (string split -m 1 , -- $line)
        switch $fields[1]
            # fish adds no space after a completion that ends in / or :, as a transport does.
            case plain nospace
                printf '%s%s\n' "$keep" $fields[2]
            case dir
                __fish_complete_directories $fields[2]
            case file
                __fish_complete_path $fields[2]
        end
    end
end

complete --command imginspect --no-files --arguments '(__imginspect_complete)'
