//! Settings shared through the database by every process on it (`settings`: name → value), such as
//! the DID of the key the database belongs to and the access log's origin. A setting, once set, is
//! never overwritten here: the first process to set it wins.

use diesel::prelude::*;

use super::schema::settings;
use super::{DbConn, StorageResult};

/// The value of setting `name`, or `None` if it was never set.
pub fn get(conn: &mut DbConn, name: &str) -> StorageResult<Option<String>> {
    Ok(settings::table
        .find(name)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// Sets `name` to `value` unless it is set already (then nothing changes, on either backend; a
/// concurrent setter does not make this fail). Read the value in force with [`get`].
pub fn init(conn: &mut DbConn, name: &str, value: &str) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values((settings::name.eq(name), settings::value.eq(value)))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}
