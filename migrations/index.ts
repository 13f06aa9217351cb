import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_webauthn.js';
import * as m0003 from './0003_totp_passwords.js';
import * as m0004 from './0004_oidc.js';
import * as m0006 from './0006_security_events.js';
import * as m0007 from './0007_recovery.js';
import * as m0008 from './0008_devices.js';
import * as m0009 from './0009_audit_entry_mac.js';
import * as m0010 from './0010_passkey_binding.js';
import * as m0012 from './0012_recovery_disputes.js';
import * as m0015 from './0015_authority.js';
import * as m0016 from './0016_client_ownership.js';
import * as m0018 from './0018_passkey_shapes.js';
import * as m0019 from './0019_incident_response.js';
import * as m0020 from './0020_security_event_order.js';
import * as m0021 from './0021_audit_growth.js';
import * as m0022 from './0022_people.js';
import * as m0024 from './0024_role_requests.js';
import * as m0025 from './0025_audit_search.js';
import * as m0026 from './0026_instance_settings.js';
import * as m0027 from './0027_setup_token.js';
import * as m0028 from './0028_audit_sink_checkpoint.js';
import * as m0029 from './0029_signing_key_custody.js';
import * as m0030 from './0030_client_security_profile.js';
import * as m0031 from './0031_oidc_conformance.js';
import * as m0032 from './0032_mutual_tls.js';
import * as m0033 from './0033_first_party_native.js';
import * as m0035 from './0035_scim_provisioning.js';
import * as m0036 from './0036_claims.js';
import * as m0037 from './0037_sensitive_changes.js';
import * as m0038 from './0038_group_versions.js';
import * as m0040 from './0040_recovery_issued_case_index.js';
import * as m0041 from './0041_hot_update_room.js';

/**
 * Every migration, by name. Listed explicitly (not read from the folder) so the
 * same list works under tsx, vitest and the compiled image.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_webauthn': m0002,
  '0003_totp_passwords': m0003,
  '0004_oidc': m0004,
  '0006_security_events': m0006,
  '0007_recovery': m0007,
  '0008_devices': m0008,
  '0009_audit_entry_mac': m0009,
  '0010_passkey_binding': m0010,
  '0012_recovery_disputes': m0012,
  '0015_authority': m0015,
  '0016_client_ownership': m0016,
  '0018_passkey_shapes': m0018,
  '0019_incident_response': m0019,
  '0020_security_event_order': m0020,
  '0021_audit_growth': m0021,
  '0022_people': m0022,
  '0024_role_requests': m0024,
  '0025_audit_search': m0025,
  '0026_instance_settings': m0026,
  '0027_setup_token': m0027,
  '0028_audit_sink_checkpoint': m0028,
  '0029_signing_key_custody': m0029,
  '0030_client_security_profile': m0030,
  '0031_oidc_conformance': m0031,
  '0032_mutual_tls': m0032,
  '0033_first_party_native': m0033,
  '0035_scim_provisioning': m0035,
  '0036_claims': m0036,
  '0037_sensitive_changes': m0037,
  '0038_group_versions': m0038,
  '0040_recovery_issued_case_index': m0040,
  '0041_hot_update_room': m0041,
};
