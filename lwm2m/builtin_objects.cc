// Built-in object models: the OMA definitions of the objects every fogm2m
// server and emulated client speaks, so no DDF file is needed to type them.
//
// Sources (OMA DDF files, LWM2M.xsd format):
//   0    LWM2M Security          LWM2M_Security-v1_1_1.xml   (object 1.1, LwM2M 1.1)
//   1    LwM2M Server            LWM2M_Server-v1_1_1.xml     (object 1.1, LwM2M 1.1)
//   3    Device                  LWM2M_Device-v1_1.xml       (object 1.1, LwM2M 1.1)
//   4    Connectivity Monitoring OMNA registry 4.xml         (object 1.3, LwM2M 1.1)
//   5    Firmware Update         OMNA registry 5.xml         (object 1.1, LwM2M 1.1)
//   6    Location                LWM2M_Location-v1_0_2.xml   (object 1.0, LwM2M 1.0)
//   3303 Temperature             OMNA registry 3303.xml      (IPSO, object 1.0)
//   3313 Accelerometer           OMNA registry 3313.xml      (IPSO, object 1.0)
// Ids, names, operations, multiplicity, mandatory, types, ranges and units
// follow those files, with two errata of the 1.1.1 files corrected as the
// later OMA versions corrected them: Server resources 13-20 carry empty
// <Operations> in LWM2M_Server-v1_1_1.xml (here R/RW as in the core TS and the
// 1.2 file), and Security resources 13 and 15 carry the unit "s" by mistake
// (here none). Descriptions are one-line summaries, not the OMA text.
#include "lwm2m/model.h"

namespace fogm2m::lwm2m {

namespace {

// Table shorthand, so each resource fits one line.
constexpr uint8_t N = kOpNone;
constexpr uint8_t R = kOpRead;
constexpr uint8_t W = kOpWrite;
constexpr uint8_t RW = kOpRead | kOpWrite;
constexpr uint8_t E = kOpExecute;

constexpr bool kSingle = false;
constexpr bool kMultiple = true;
constexpr bool kOptional = false;
constexpr bool kMandatory = true;

using T = ResourceType;
constexpr T kNone = T::kNone;
constexpr T kString = T::kString;
constexpr T kInteger = T::kInteger;
constexpr T kUnsigned = T::kUnsignedInteger;
constexpr T kFloat = T::kFloat;
constexpr T kBoolean = T::kBoolean;
constexpr T kOpaque = T::kOpaque;
constexpr T kTime = T::kTime;
constexpr T kObjlnk = T::kObjlnk;

struct ResourceRow {
  uint16_t id;
  const char* name;
  uint8_t ops;
  bool multiple;
  bool mandatory;
  ResourceType type;
  const char* range;
  const char* units;
  const char* description;
};

struct ObjectHeader {
  uint16_t id;
  const char* name;
  const char* urn;
  const char* version;
  const char* lwm2m_version;
  bool multiple;
  bool mandatory;
  const char* description;
};

template <size_t Count>
ObjectModel make_object(const ObjectHeader& h, const ResourceRow (&rows)[Count]) {
  ObjectModel m;
  m.id = h.id;
  m.name = h.name;
  m.urn = h.urn;
  m.version = h.version;
  m.lwm2m_version = h.lwm2m_version;
  m.multiple = h.multiple;
  m.mandatory = h.mandatory;
  m.description = h.description;
  m.resources.reserve(Count);
  for (const ResourceRow& r : rows) {
    ResourceModel res;
    res.id = r.id;
    res.name = r.name;
    res.operations = r.ops;
    res.multiple = r.multiple;
    res.mandatory = r.mandatory;
    res.type = r.type;
    res.range = r.range;
    res.units = r.units;
    res.description = r.description;
    m.resources.push_back(std::move(res));
  }
  return m;
}

// Binding and Preferred Transport spell their range this way in the DDF.
constexpr const char* kBindingRange =
    "The possible values are those listed in the LwM2M Core Specification";

// clang-format off

// ---- 0 LWM2M Security 1.1 -------------------------------------------------
// Only a Bootstrap-Server (or smartcard) touches this object, hence no operations.
constexpr ObjectHeader kSecurity = {0, "LWM2M Security", "urn:oma:lwm2m:oma:0:1.1", "1.1", "1.1",
    kMultiple, kMandatory,
    "Keying material a LwM2M Client uses to access one LwM2M Server or Bootstrap-Server."};
constexpr ResourceRow kSecurityResources[] = {
  {0, "LWM2M Server URI", N, kSingle, kMandatory, kString, "0..255 bytes", "", "URI of the LwM2M Server or Bootstrap-Server (RFC 7252 section 6)."},
  {1, "Bootstrap-Server", N, kSingle, kMandatory, kBoolean, "", "", "True if this instance addresses a Bootstrap-Server."},
  {2, "Security Mode", N, kSingle, kMandatory, kInteger, "0..4", "", "0 PSK, 1 RPK, 2 Certificate, 3 NoSec, 4 Certificate with EST."},
  {3, "Public Key or Identity", N, kSingle, kMandatory, kOpaque, "", "", "Client certificate, raw public key or PSK identity."},
  {4, "Server Public Key", N, kSingle, kMandatory, kOpaque, "", "", "Server certificate, raw public key or trust anchor."},
  {5, "Secret Key", N, kSingle, kMandatory, kOpaque, "", "", "PSK secret key, or private key in RPK and certificate modes."},
  {6, "SMS Security Mode", N, kSingle, kOptional, kInteger, "0..255", "", "SMS security mode: 1 DTLS, 2 Secure Packet Structure, 3 NoSec."},
  {7, "SMS Binding Key Parameters", N, kSingle, kOptional, kOpaque, "6", "", "KIc, KID, SPI and TAR."},
  {8, "SMS Binding Secret Key(s)", N, kSingle, kOptional, kOpaque, "16,32,48", "", "Keys of the SMS binding."},
  {9, "LwM2M Server SMS Number", N, kSingle, kOptional, kString, "", "", "MSISDN of the LwM2M Server for the SMS binding."},
  {10, "Short Server ID", N, kSingle, kOptional, kInteger, "1..65534", "", "Identifies the LwM2M Server; required unless Bootstrap-Server is true."},
  {11, "Client Hold Off Time", N, kSingle, kOptional, kInteger, "", "s", "Wait before a Client Initiated Bootstrap."},
  {12, "Bootstrap-Server Account Timeout", N, kSingle, kOptional, kInteger, "", "s", "Purge the Bootstrap-Server account after this time; 0 is never."},
  {13, "Matching Type", N, kSingle, kOptional, kUnsigned, "0..3", "", "How Server Public Key is given: 0 exact, 1 SHA-256, 2 SHA-384, 3 SHA-512."},
  {14, "SNI", N, kSingle, kOptional, kString, "", "", "Server Name Indication for the TLS/DTLS handshake."},
  {15, "Certificate Usage", N, kSingle, kOptional, kInteger, "0..3", "", "Certificate semantics: 0 CA, 1 service, 2 trust anchor, 3 domain-issued."},
  {16, "DTLS/TLS Ciphersuite", N, kMultiple, kOptional, kInteger, "", "", "IANA ciphersuite values the client proposes."},
  {17, "OSCORE Security Mode", N, kSingle, kOptional, kObjlnk, "", "", "Link to the OSCORE object instance."},
};

// ---- 1 LwM2M Server 1.1 ---------------------------------------------------
constexpr ObjectHeader kServer = {1, "LwM2M Server", "urn:oma:lwm2m:oma:1:1.1", "1.1", "1.1",
    kMultiple, kMandatory,
    "Data related to one LwM2M Server; a Bootstrap-Server has no instance."};
constexpr ResourceRow kServerResources[] = {
  {0, "Short Server ID", R, kSingle, kMandatory, kInteger, "1..65534", "", "Links this instance to a Security object instance."},
  {1, "Lifetime", RW, kSingle, kMandatory, kInteger, "", "s", "Lifetime of the registration."},
  {2, "Default Minimum Period", RW, kSingle, kOptional, kInteger, "", "s", "Default pmin of observations; 0 when absent."},
  {3, "Default Maximum Period", RW, kSingle, kOptional, kInteger, "", "s", "Default pmax of observations."},
  {4, "Disable", E, kSingle, kOptional, kNone, "", "", "De-register and disable this server for Disable Timeout."},
  {5, "Disable Timeout", RW, kSingle, kOptional, kInteger, "", "s", "How long Disable lasts; 86400 when absent."},
  {6, "Notification Storing When Disabled or Offline", RW, kSingle, kMandatory, kBoolean, "", "", "Store notifications while disabled or offline."},
  {7, "Binding", RW, kSingle, kMandatory, kString, kBindingRange, "", "Transport binding configured for the client."},
  {8, "Registration Update Trigger", E, kSingle, kMandatory, kNone, "", "", "Makes the client send a registration Update."},
  {9, "Bootstrap-Request Trigger", E, kSingle, kOptional, kNone, "", "", "Makes the client start a Client Initiated Bootstrap."},
  {10, "APN Link", RW, kSingle, kOptional, kObjlnk, "", "", "Link to the APN connection profile (object 11) for this server."},
  {11, "TLS-DTLS Alert Code", R, kSingle, kOptional, kUnsigned, "0..255", "", "Last TLS/DTLS alert received from this server."},
  {12, "Last Bootstrapped", R, kSingle, kOptional, kTime, "", "", "When the bootstrap server last updated this account."},
  {13, "Registration Priority Order", R, kSingle, kOptional, kUnsigned, "", "", "Order of registration among servers, ascending."},
  {14, "Initial Registration Delay Timer", RW, kSingle, kOptional, kUnsigned, "", "s", "Delay after the previous server's registration."},
  {15, "Registration Failure Block", R, kSingle, kOptional, kBoolean, "", "", "A failed registration here blocks the following servers."},
  {16, "Bootstrap on Registration Failure", R, kSingle, kOptional, kBoolean, "", "", "Re-bootstrap when registration fails."},
  {17, "Communication Retry Count", RW, kSingle, kOptional, kUnsigned, "", "", "Attempts per communication sequence."},
  {18, "Communication Retry Timer", RW, kSingle, kOptional, kUnsigned, "", "s", "Base delay of the exponential back-off between attempts."},
  {19, "Communication Sequence Delay Timer", RW, kSingle, kOptional, kUnsigned, "", "", "Delay between communication sequences."},
  {20, "Communication Sequence Retry Count", RW, kSingle, kOptional, kUnsigned, "", "", "Sequences before a registration attempt fails."},
  {21, "Trigger", RW, kSingle, kOptional, kBoolean, "", "", "Whether the client is reachable over SMS."},
  {22, "Preferred Transport", RW, kSingle, kOptional, kString, kBindingRange, "", "Single transport binding the client may use first."},
  {23, "Mute Send", RW, kSingle, kOptional, kBoolean, "", "", "True or absent: the Send operation is disabled."},
};

// ---- 3 Device 1.1 ---------------------------------------------------------
constexpr ObjectHeader kDevice = {3, "Device", "urn:oma:lwm2m:oma:3:1.1", "1.1", "1.1",
    kSingle, kMandatory,
    "Device information, reboot and factory reset."};
constexpr ResourceRow kDeviceResources[] = {
  {0, "Manufacturer", R, kSingle, kOptional, kString, "", "", "Human-readable manufacturer name."},
  {1, "Model Number", R, kSingle, kOptional, kString, "", "", "Model identifier."},
  {2, "Serial Number", R, kSingle, kOptional, kString, "", "", "Serial number."},
  {3, "Firmware Version", R, kSingle, kOptional, kString, "", "", "Current firmware version."},
  {4, "Reboot", E, kSingle, kMandatory, kNone, "", "", "Reboots the device."},
  {5, "Factory Reset", E, kSingle, kOptional, kNone, "", "", "Resets the device to its initial deployment state."},
  {6, "Available Power Sources", R, kMultiple, kOptional, kInteger, "0..7", "", "0 DC, 1 internal battery, 2 external battery, 3 fuel cell, 4 PoE, 5 USB, 6 AC, 7 solar."},
  {7, "Power Source Voltage", R, kMultiple, kOptional, kInteger, "", "", "Voltage of each power source, in mV."},
  {8, "Power Source Current", R, kMultiple, kOptional, kInteger, "", "", "Current of each power source, in mA."},
  {9, "Battery Level", R, kSingle, kOptional, kInteger, "0..100", "%", "Internal battery level."},
  {10, "Memory Free", R, kSingle, kOptional, kInteger, "", "", "Free storage, in KiB."},
  {11, "Error Code", R, kMultiple, kMandatory, kInteger, "0..8", "", "0 no error, 1 low battery, ... 8 peripheral malfunction."},
  {12, "Reset Error Code", E, kSingle, kOptional, kNone, "", "", "Clears all error codes."},
  {13, "Current Time", RW, kSingle, kOptional, kTime, "", "", "Current Unix time of the device."},
  {14, "UTC Offset", RW, kSingle, kOptional, kString, "", "", "UTC offset in effect, ISO 8601."},
  {15, "Timezone", RW, kSingle, kOptional, kString, "", "", "IANA time zone of the device."},
  {16, "Supported Binding and Modes", R, kSingle, kMandatory, kString, "", "", "Bindings and modes the client supports."},
  {17, "Device Type", R, kSingle, kOptional, kString, "", "", "Type of the device."},
  {18, "Hardware Version", R, kSingle, kOptional, kString, "", "", "Current hardware version."},
  {19, "Software Version", R, kSingle, kOptional, kString, "", "", "Current software version."},
  {20, "Battery Status", R, kSingle, kOptional, kInteger, "0..6", "", "0 normal, 1 charging, 2 charged, 3 damaged, 4 low, 5 not installed, 6 unknown."},
  {21, "Memory Total", R, kSingle, kOptional, kInteger, "", "", "Total storage, in KiB."},
  {22, "ExtDevInfo", R, kMultiple, kOptional, kObjlnk, "", "", "Links to external Device object instances, e.g. a host device."},
};

// ---- 4 Connectivity Monitoring 1.3 ----------------------------------------
constexpr ObjectHeader kConnectivity = {4, "Connectivity Monitoring", "urn:oma:lwm2m:oma:4:1.3",
    "1.3", "1.1", kSingle, kOptional,
    "Parameters of the current network connection."};
constexpr ResourceRow kConnectivityResources[] = {
  {0, "Network Bearer", R, kSingle, kMandatory, kInteger, "0..50", "", "Bearer in use: 0-20 cellular, 21-40 wireless, 41-50 wireline."},
  {1, "Available Network Bearer", R, kMultiple, kMandatory, kInteger, "0..50", "", "Bearers currently available."},
  {2, "Radio Signal Strength", R, kSingle, kMandatory, kInteger, "", "", "Average received signal strength, in dBm."},
  {3, "Link Quality", R, kSingle, kOptional, kInteger, "", "", "Received link quality, e.g. LQI, RxQual, RSRQ."},
  {4, "IP Addresses", R, kMultiple, kMandatory, kString, "", "", "IP addresses of the connectivity interface."},
  {5, "Router IP Addresses", R, kMultiple, kOptional, kString, "", "", "Next-hop router of each interface."},
  {6, "Link Utilization", R, kSingle, kOptional, kInteger, "0..100", "/100", "Average utilization of the link to the next hop."},
  {7, "APN", R, kMultiple, kOptional, kString, "", "", "Access point names on a cellular bearer."},
  {8, "Cell ID", R, kSingle, kOptional, kInteger, "", "", "Serving cell id on a cellular bearer."},
  {9, "SMNC", R, kSingle, kOptional, kInteger, "0..999", "", "Serving mobile network code."},
  {10, "SMCC", R, kSingle, kOptional, kInteger, "0..999", "", "Serving mobile country code."},
  {11, "SignalSNR", R, kSingle, kOptional, kInteger, "", "dB", "Signal to interference plus noise ratio."},
  {12, "LAC", R, kSingle, kOptional, kInteger, "", "", "Location area code on a cellular bearer."},
  {13, "Coverage Enhancement Level", R, kSingle, kOptional, kInteger, "0..4", "", "Coverage enhancement level in the serving cell (3GPP TS 36.331)."},
};

// ---- 5 Firmware Update 1.1 ------------------------------------------------
constexpr ObjectHeader kFirmware = {5, "Firmware Update", "urn:oma:lwm2m:oma:5:1.1", "1.1", "1.1",
    kSingle, kOptional,
    "Download, install and track firmware updates."};
constexpr ResourceRow kFirmwareResources[] = {
  {0, "Package", W, kSingle, kMandatory, kOpaque, "", "", "Firmware package pushed by the server."},
  {1, "Package URI", RW, kSingle, kMandatory, kString, "0..255", "", "URI the client downloads the package from."},
  {2, "Update", E, kSingle, kMandatory, kNone, "", "", "Installs the downloaded package."},
  {3, "State", R, kSingle, kMandatory, kInteger, "0..3", "", "0 idle, 1 downloading, 2 downloaded, 3 updating."},
  {5, "Update Result", R, kSingle, kMandatory, kInteger, "0..11", "", "Result of the last download or update; 1 success."},
  {6, "PkgName", R, kSingle, kOptional, kString, "0..255", "", "Name of the firmware package."},
  {7, "PkgVersion", R, kSingle, kOptional, kString, "0..255", "", "Version of the firmware package."},
  {8, "Firmware Update Protocol Support", R, kMultiple, kOptional, kInteger, "0..5", "", "0 CoAP, 1 CoAPS, 2 HTTP, 3 HTTPS, 4 CoAP/TCP, 5 CoAP/TLS."},
  {9, "Firmware Update Delivery Method", R, kSingle, kMandatory, kInteger, "0..2", "", "0 pull only, 1 push only, 2 both."},
  {10, "Cancel", E, kSingle, kOptional, kNone, "", "", "Cancels an update not yet started."},
  {11, "Severity", RW, kSingle, kOptional, kInteger, "0..2", "", "0 critical, 1 mandatory, 2 optional."},
  {12, "Last State Change Time", R, kSingle, kOptional, kTime, "", "", "When State last changed."},
  {13, "Maximum Defer Period", RW, kSingle, kOptional, kUnsigned, "", "s", "How long a user may defer the update; 0 forbids it."},
};

// ---- 6 Location 1.0 -------------------------------------------------------
constexpr ObjectHeader kLocation = {6, "Location", "urn:oma:lwm2m:oma:6", "1.0", "1.0",
    kSingle, kOptional,
    "Location telemetry of the device."};
constexpr ResourceRow kLocationResources[] = {
  {0, "Latitude", R, kSingle, kMandatory, kFloat, "", "lat", "Latitude, decimal degrees (WGS 84)."},
  {1, "Longitude", R, kSingle, kMandatory, kFloat, "", "lon", "Longitude, decimal degrees (WGS 84)."},
  {2, "Altitude", R, kSingle, kOptional, kFloat, "", "m", "Altitude above sea level."},
  {3, "Radius", R, kSingle, kOptional, kFloat, "", "m", "Radius of the uncertainty circle."},
  {4, "Velocity", R, kSingle, kOptional, kOpaque, "", "", "Velocity as defined in 3GPP TS 23.032."},
  {5, "Timestamp", R, kSingle, kMandatory, kTime, "", "", "When the location was measured."},
  {6, "Speed", R, kSingle, kOptional, kFloat, "", "m/s", "Scalar speed."},
};

// ---- 3303 Temperature (IPSO) ----------------------------------------------
constexpr ObjectHeader kTemperature = {3303, "Temperature", "urn:oma:lwm2m:ext:3303", "1.0", "1.0",
    kMultiple, kOptional,
    "A temperature sensor with min/max measured values and measurable range."};
constexpr ResourceRow kTemperatureResources[] = {
  {5601, "Min Measured Value", R, kSingle, kOptional, kFloat, "", "", "Minimum measured since power on or reset."},
  {5602, "Max Measured Value", R, kSingle, kOptional, kFloat, "", "", "Maximum measured since power on or reset."},
  {5603, "Min Range Value", R, kSingle, kOptional, kFloat, "", "", "Lowest value the sensor can measure."},
  {5604, "Max Range Value", R, kSingle, kOptional, kFloat, "", "", "Highest value the sensor can measure."},
  {5605, "Reset Min and Max Measured Values", E, kSingle, kOptional, kNone, "", "", "Resets min and max measured to the current value."},
  {5700, "Sensor Value", R, kSingle, kMandatory, kFloat, "", "", "Last or current measured value."},
  {5701, "Sensor Units", R, kSingle, kOptional, kString, "", "", "Measurement units."},
};

// ---- 3313 Accelerometer (IPSO) --------------------------------------------
constexpr ObjectHeader kAccelerometer = {3313, "Accelerometer", "urn:oma:lwm2m:ext:3313", "1.0",
    "1.0", kMultiple, kOptional,
    "A 1-3 axis accelerometer."};
constexpr ResourceRow kAccelerometerResources[] = {
  {5603, "Min Range Value", R, kSingle, kOptional, kFloat, "", "", "Lowest value the sensor can measure."},
  {5604, "Max Range Value", R, kSingle, kOptional, kFloat, "", "", "Highest value the sensor can measure."},
  {5701, "Sensor Units", R, kSingle, kOptional, kString, "", "", "Measurement units."},
  {5702, "X Value", R, kSingle, kMandatory, kFloat, "", "", "Value measured along the X axis."},
  {5703, "Y Value", R, kSingle, kOptional, kFloat, "", "", "Value measured along the Y axis."},
  {5704, "Z Value", R, kSingle, kOptional, kFloat, "", "", "Value measured along the Z axis."},
};

// clang-format on

}  // namespace

ModelRegistry ModelRegistry::builtin() {
  ModelRegistry registry;
  registry.add(make_object(kSecurity, kSecurityResources));
  registry.add(make_object(kServer, kServerResources));
  registry.add(make_object(kDevice, kDeviceResources));
  registry.add(make_object(kConnectivity, kConnectivityResources));
  registry.add(make_object(kFirmware, kFirmwareResources));
  registry.add(make_object(kLocation, kLocationResources));
  registry.add(make_object(kTemperature, kTemperatureResources));
  registry.add(make_object(kAccelerometer, kAccelerometerResources));
  return registry;
}

}  // namespace fogm2m::lwm2m
