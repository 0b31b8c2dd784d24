//! `completions SHELL`: completion scripts for bash, zsh and fish.
//!
//! Why thin scripts: each one hands the line and cursor to `rustemd-shell __complete`, which
//! answers with the REPL's own live completion (bus names, object paths, members,
//! signatures, flags), so the login shell completes exactly what the prompt completes.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::Invocation;

pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

const BASH: &str = r#"# bash completion for rustemd-shell (rustemd-shell completions bash)
_rustemd_shell() {
    local IFS=$'\n' cur=${COMP_LINE:0:COMP_POINT}
    cur=${cur##*[[:space:]]}
    COMPREPLY=($(rustemd-shell __complete "$COMP_LINE" "$COMP_POINT" 2>/dev/null))
    # bash splits words at ':' (bus names like :1.42): keep only what follows the last one.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon=${cur%"${cur##*:}"}
        COMPREPLY=("${COMPREPLY[@]#"$colon"}")
    fi
}
complete -o default -o nospace -F _rustemd_shell rustemd-shell
"#;

const ZSH: &str = r#"#compdef rustemd-shell
# zsh completion for rustemd-shell (rustemd-shell completions zsh)
_rustemd_shell() {
    local -a words_
    words_=("${(@f)$(rustemd-shell __complete "$BUFFER" "$CURSOR" 2>/dev/null)}")
    compset -P '*[[:space:]]'
    compadd -Q -S '' -- "${words_[@]}"
}
compdef _rustemd_shell rustemd-shell
"#;

const FISH: &str = r#"# fish completion for rustemd-shell (rustemd-shell completions fish)
function __rustemd_shell_complete
    set -l line (commandline -cp)
    rustemd-shell __complete "$line" (string length -- "$line") 2>/dev/null
end
complete -c rustemd-shell -f -a '(__rustemd_shell_complete)'
"#;

/// The script for `shell`.
pub fn script(shell: &str) -> Option<&'static str> {
    match shell {
        "bash" => Some(BASH),
        "zsh" => Some(ZSH),
        "fish" => Some(FISH),
        _ => None,
    }
}

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let shell = &inv.args[0];
    let text = script(shell).ok_or_else(|| {
        Error::new(format!(
            "completions: no script for '{shell}' (choose one of {})",
            SHELLS.join(", ")
        ))
    })?;
    ctx.out.write_all(text.as_bytes())?;
    Ok(Value::None)
}
