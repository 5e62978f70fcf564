//! Speaks `gohook:plugin@0.2.0`, a contract newer than gohook's: gohook must refuse it and say to upgrade gohook.

wit_bindgen::generate!({
    inline: r#"
        package gohook:plugin@0.2.0;

        interface host {
            log: func(message: string);
        }

        world plugin {
            import host;
            export metadata: func() -> string;
        }
    "#,
    world: "plugin",
});

struct Future;

impl Guest for Future {
    fn metadata() -> String {
        gohook::plugin::host::log("hello from the future");
        "future".into()
    }
}

export!(Future);
