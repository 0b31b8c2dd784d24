//! Jobs: asking systemd to start, stop or restart a unit and waiting for the job to finish,
//! driven by the manager's `JobRemoved` signal (subscribed before the call, so it cannot be
//! missed), as systemctl does.

use std::sync::Mutex;

use crate::bus::connection::{Bus, CallError};
use crate::bus::data::Data;
use crate::bus::signals::{MatchRule, Subscription};
use crate::systemd::{MANAGER_IFACE, MANAGER_PATH, SERVICE};

/// The buses (by description) whose systemd already sends us its signals.
static SUBSCRIBED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Ask systemd to send us its signals (it only emits them while someone is subscribed); once
/// per bus: systemd keeps the subscription for as long as our connection lives.
pub async fn subscribe_manager(bus: &Bus) -> Result<(), CallError> {
    let key = bus.target().describe();
    if SUBSCRIBED.lock().is_ok_and(|s| s.contains(&key)) {
        return Ok(());
    }
    match bus
        .call(SERVICE, MANAGER_PATH, Some(MANAGER_IFACE), "Subscribe", &[])
        .await
    {
        // Already subscribed on this connection: fine.
        Err(CallError::Dbus { name, .. }) if name.ends_with(".AlreadySubscribed") => {}
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    if let Ok(mut s) = SUBSCRIBED.lock() {
        s.push(key);
    }
    Ok(())
}

pub fn job_removed_rule() -> MatchRule {
    MatchRule {
        sender: Some(SERVICE.into()),
        path: Some(MANAGER_PATH.into()),
        interface: Some(MANAGER_IFACE.into()),
        member: Some("JobRemoved".into()),
        ..MatchRule::default()
    }
}

/// Wait for JobRemoved of `job`; its result.
pub async fn job_result(sub: &mut Subscription, job: &str) -> Result<String, CallError> {
    loop {
        let sig = sub.next().await.ok_or_else(|| {
            CallError::Connection("the connection closed while waiting for the job".into())
        })?;
        // JobRemoved(u id, o job, s unit, s result)
        if let [_, Data::Path(p), _, Data::Str(result)] = sig.values.as_slice()
            && p == job
        {
            return Ok(result.clone());
        }
    }
}

/// Call `method` (StopUnit, RestartUnit, StartUnit, ...) for `name` with mode "replace" and
/// wait for its job; the job's result (`done`, `failed`, ...).
pub async fn run_job(bus: &Bus, method: &str, name: &str) -> Result<String, CallError> {
    let mut jobs = bus.subscribe(job_removed_rule()).await?;
    subscribe_manager(bus).await?;
    let reply = bus
        .call(
            SERVICE,
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            method,
            &[Data::Str(name.into()), Data::Str("replace".into())],
        )
        .await?;
    match reply.values.first() {
        Some(Data::Path(job)) => job_result(&mut jobs, job).await,
        _ => Err(CallError::Invalid(format!(
            "{method} answered without a job path"
        ))),
    }
}

/// Stop `name` (waiting for the stop job) and forget its failure: nothing is left behind.
pub async fn stop_and_reset(bus: &Bus, name: &str) -> Result<(), CallError> {
    let result = match run_job(bus, "StopUnit", name).await {
        Ok(_) => Ok(()),
        // Not loaded (already gone): nothing to stop.
        Err(CallError::Dbus { name, .. }) if name.ends_with(".NoSuchUnit") => Ok(()),
        Err(e) => Err(e),
    };
    let _ = bus
        .call(
            SERVICE,
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            "ResetFailedUnit",
            &[Data::Str(name.into())],
        )
        .await;
    result
}
