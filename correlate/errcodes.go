package correlate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrorClass says how an error code bears on the port-conflict question.
type ErrorClass string

// The error classes.
const (
	// ClassPortConflict: the bind failed because the address is in use or
	// forbidden (10048, 10013 and their NTSTATUS/HRESULT forms).
	ClassPortConflict ErrorClass = "port-conflict"
	// ClassPossiblyPort: the failure is one a bind error often hides behind
	// (timeouts, crashes, small service-specific exit codes).
	ClassPossiblyPort ErrorClass = "possibly-port"
	// ClassNotPort: the error names another cause (disabled, logon, missing file …).
	ClassNotPort ErrorClass = "not-port"
	// ClassUnknown: a code portmortem does not know.
	ClassUnknown ErrorClass = "unknown"
)

// ErrorInfo describes one error code.
type ErrorInfo struct {
	Code   uint32
	Symbol string
	Text   string
	Class  ErrorClass
}

// Win32 and Winsock error texts are the en-US FormatMessage texts from
// winerror.h (DOMAIN.md §2).
var win32Errors = map[uint32]ErrorInfo{
	1:     {Symbol: "ERROR_INVALID_FUNCTION", Text: "Incorrect function.", Class: ClassPossiblyPort},
	2:     {Symbol: "ERROR_FILE_NOT_FOUND", Text: "The system cannot find the file specified.", Class: ClassNotPort},
	3:     {Symbol: "ERROR_PATH_NOT_FOUND", Text: "The system cannot find the path specified.", Class: ClassNotPort},
	5:     {Symbol: "ERROR_ACCESS_DENIED", Text: "Access is denied.", Class: ClassNotPort},
	14:    {Symbol: "ERROR_OUTOFMEMORY", Text: "Not enough memory resources are available to complete this operation.", Class: ClassNotPort},
	21:    {Symbol: "ERROR_NOT_READY", Text: "The device is not ready.", Class: ClassNotPort},
	50:    {Symbol: "ERROR_NOT_SUPPORTED", Text: "The request is not supported.", Class: ClassNotPort},
	52:    {Symbol: "ERROR_DUP_NAME", Text: "You were not connected because a duplicate name exists on the network. If joining a domain, go to System in Control Panel to change the computer name and try again. If joining a workgroup, choose another workgroup name.", Class: ClassNotPort},
	87:    {Symbol: "ERROR_INVALID_PARAMETER", Text: "The parameter is incorrect.", Class: ClassNotPort},
	193:   {Symbol: "ERROR_BAD_EXE_FORMAT", Text: "%1 is not a valid Win32 application.", Class: ClassNotPort},
	577:   {Symbol: "ERROR_INVALID_IMAGE_HASH", Text: "Windows cannot verify the digital signature for this file. A recent hardware or software change might have installed a file that is signed incorrectly or damaged, or that might be malicious software from an unknown source.", Class: ClassNotPort},
	740:   {Symbol: "ERROR_ELEVATION_REQUIRED", Text: "The requested operation requires elevation.", Class: ClassNotPort},
	1053:  {Symbol: "ERROR_SERVICE_REQUEST_TIMEOUT", Text: "The service did not respond to the start or control request in a timely fashion.", Class: ClassPossiblyPort},
	1054:  {Symbol: "ERROR_SERVICE_NO_THREAD", Text: "A thread could not be created for the service.", Class: ClassNotPort},
	1055:  {Symbol: "ERROR_SERVICE_DATABASE_LOCKED", Text: "The service database is locked.", Class: ClassNotPort},
	1056:  {Symbol: "ERROR_SERVICE_ALREADY_RUNNING", Text: "An instance of the service is already running.", Class: ClassNotPort},
	1058:  {Symbol: "ERROR_SERVICE_DISABLED", Text: "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.", Class: ClassNotPort},
	1060:  {Symbol: "ERROR_SERVICE_DOES_NOT_EXIST", Text: "The specified service does not exist as an installed service.", Class: ClassNotPort},
	1062:  {Symbol: "ERROR_SERVICE_NOT_ACTIVE", Text: "The service has not been started.", Class: ClassNotPort},
	1064:  {Symbol: "ERROR_EXCEPTION_IN_SERVICE", Text: "An exception occurred in the service when handling the control request.", Class: ClassPossiblyPort},
	1066:  {Symbol: "ERROR_SERVICE_SPECIFIC_ERROR", Text: "The service has returned a service-specific error code.", Class: ClassPossiblyPort},
	1067:  {Symbol: "ERROR_PROCESS_ABORTED", Text: "The process terminated unexpectedly.", Class: ClassPossiblyPort},
	1068:  {Symbol: "ERROR_SERVICE_DEPENDENCY_FAIL", Text: "The dependency service or group failed to start.", Class: ClassNotPort},
	1069:  {Symbol: "ERROR_SERVICE_LOGON_FAILED", Text: "The service did not start due to a logon failure.", Class: ClassNotPort},
	1070:  {Symbol: "ERROR_SERVICE_START_HANG", Text: "After starting, the service hung in a start-pending state.", Class: ClassPossiblyPort},
	1075:  {Symbol: "ERROR_SERVICE_DEPENDENCY_DELETED", Text: "The dependency service does not exist or has been marked for deletion.", Class: ClassNotPort},
	1077:  {Symbol: "ERROR_SERVICE_NEVER_STARTED", Text: "No attempts to start the service have been made since the last boot.", Class: ClassNotPort},
	1079:  {Symbol: "ERROR_DIFFERENT_SERVICE_ACCOUNT", Text: "The account specified for this service is different from the account specified for other services running in the same process.", Class: ClassNotPort},
	1227:  {Symbol: "ERROR_ADDRESS_ALREADY_ASSOCIATED", Text: "The network transport endpoint already has an address associated with it.", Class: ClassPortConflict},
	1275:  {Symbol: "ERROR_DRIVER_BLOCKED", Text: "This driver has been blocked from loading", Class: ClassNotPort},
	1290:  {Symbol: "ERROR_SERVICE_NOTIFY_CLIENT_LAGGING", Text: "The service start failed since one or more services in the same process have an incompatible service SID type setting.", Class: ClassNotPort},
	1297:  {Symbol: "ERROR_PRIVILEGE_NOT_HELD", Text: "A privilege that the service requires to function properly does not exist in the service account configuration.", Class: ClassNotPort},
	1326:  {Symbol: "ERROR_LOGON_FAILURE", Text: "The user name or password is incorrect.", Class: ClassNotPort},
	1385:  {Symbol: "ERROR_LOGON_TYPE_NOT_GRANTED", Text: "Logon failure: the user has not been granted the requested logon type at this computer.", Class: ClassNotPort},
	1722:  {Symbol: "RPC_S_SERVER_UNAVAILABLE", Text: "The RPC server is unavailable.", Class: ClassNotPort},
	1792:  {Symbol: "ERROR_NETLOGON_NOT_STARTED", Text: "An attempt was made to logon, but the network logon service was not started.", Class: ClassNotPort},
	10013: {Symbol: "WSAEACCES", Text: "An attempt was made to access a socket in a way forbidden by its access permissions.", Class: ClassPortConflict},
	10047: {Symbol: "WSAEAFNOSUPPORT", Text: "An address incompatible with the requested protocol was used.", Class: ClassNotPort},
	10048: {Symbol: "WSAEADDRINUSE", Text: "Only one usage of each socket address (protocol/network address/port) is normally permitted.", Class: ClassPortConflict},
	10049: {Symbol: "WSAEADDRNOTAVAIL", Text: "The requested address is not valid in its context.", Class: ClassNotPort},
	10055: {Symbol: "WSAENOBUFS", Text: "An operation on a socket could not be performed because the system lacked sufficient buffer space or because a queue was full.", Class: ClassPossiblyPort},
}

// ntstatusErrors are the NTSTATUS values kernel-mode bind failures carry
// (HTTP.sys 15005 in its Binary), with the Win32 code they map to.
var ntstatusErrors = map[uint32]struct {
	Symbol string
	Win32  uint32
}{
	0xC000020A: {"STATUS_ADDRESS_ALREADY_EXISTS", 10048},
	0xC0000022: {"STATUS_ACCESS_DENIED", 10013},
	0xC0000043: {"STATUS_SHARING_VIOLATION", 10048},
}

// LookupError describes code. Besides plain Win32 and Winsock codes it
// understands HRESULT_FROM_WIN32 (0x8007xxxx) and the NTSTATUS forms of the
// bind errors, which it describes by their Win32 equivalent.
func LookupError(code uint32) (ErrorInfo, bool) {
	if info, ok := win32Errors[code]; ok {
		info.Code = code
		return info, true
	}
	if code&0xFFFF0000 == 0x80070000 {
		if info, ok := win32Errors[code&0xFFFF]; ok {
			info.Code = code
			info.Symbol = "HRESULT_FROM_WIN32(" + info.Symbol + ")"
			return info, true
		}
	}
	if nt, ok := ntstatusErrors[code]; ok {
		info := win32Errors[nt.Win32]
		info.Code = code
		info.Symbol = nt.Symbol
		return info, true
	}
	return ErrorInfo{Code: code, Class: ClassUnknown}, false
}

// ParseInsertion reads an error insertion string as SCM events carry it:
// "%%1053", "%%-1072823311" (signed on older systems), a plain decimal or
// "0x2740". Signed values are converted to their uint32 form. The code
// is 0 when ok is false.
func ParseInsertion(s string) (uint32, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "%%"))
	if s == "" {
		return 0, false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err := strconv.ParseUint(h, 16, 32)
		if err != nil {
			return 0, false // not ParseUint's clamped value
		}
		return uint32(v), true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1<<31 || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// localizedTexts are rendered texts of the conflict errors in other
// languages (DOMAIN.md §2), for logs whose messages are already expanded
// (legacy .evt, XML exports with RenderingInfo).
var localizedTexts = []struct {
	fragment string
	code     uint32
}{
	// 10048 WSAEADDRINUSE
	{"通常每个套接字地址", 10048},
	{"Solo se permite un uso de cada dirección de socket", 10048},
	{"Elk socketadres", 10048},
	{"Normálně je povoleno pouze jedno použití každé adresy soketu", 10048},
	{"Normalerweise darf jede Socketadresse", 10048},
	{"Une seule utilisation de chaque adresse de socket", 10048},
	{"un solo utilizzo di ogni indirizzo", 10048},
	{"apenas uma utilização de cada endereço de soquete", 10048},
	{"Обычно разрешается только одно использование адреса сокета", 10048},
	{"Tylko jedno użycie każdego adresu gniazda", 10048},
	{"各ソケット アドレスに対してプロトコル", 10048},
	{"각 소켓 주소", 10048},
	// 10013 WSAEACCES
	{"de manière interdite par ses autorisations d", 10013},
	{"prohibida por sus permisos de acceso", 10013},
	{"запрещенным правами доступа", 10013},
	{"アクセス許可で禁じられた方法でソケットにアクセス", 10013},
	{"以一种访问权限不允许的方式做了一个访问套接字的尝试", 10013},
	{"액세스 권한에 의해 숨겨진 소켓에 액세스를 시도했습니다", 10013},
	{"auf einen Socket in einer Weise zuzugreifen", 10013},                 // unverified
	{"con modalità non consentite dalle autorizzazioni di accesso", 10013}, // unverified
	{"proibida pelas permissões de acesso", 10013},                         // unverified
	{"zabroniony przez jego uprawnienia dostępu", 10013},                   // unverified
	{"niet is toegestaan door de toegangsmachtigingen", 10013},             // unverified
	// 10049 WSAEADDRNOTAVAIL
	{"Die angeforderte Adresse ist in diesem Kontext ungültig", 10049}, // unverified
	{"L'adresse demandée n'est pas valide dans son contexte", 10049},   // unverified
	{"La dirección solicitada no es válida en este contexto", 10049},   // unverified
	{"Требуемый адрес для своего контекста неверен", 10049},            // unverified
	{"要求されたアドレスのコンテキストが無効です", 10049},                                   // unverified
	{"在其上下文中，该请求的地址无效", 10049},                                         // unverified
	// 1053 ERROR_SERVICE_REQUEST_TIMEOUT
	{"Der Dienst antwortete nicht rechtzeitig auf die Start- oder Steuerungsanforderung", 1053},
	{"Le service n'a pas répondu assez vite à la demande de lancement ou de contrôle", 1053},
	{"El servicio no respondió a tiempo a la solicitud de inicio o de control", 1053},
	{"O serviço não respondeu à solicitação de início ou controle", 1053},
	{"服务没有及时响应启动或控制请求", 1053},
	{"Служба не ответила на запрос запуска или управления в течение отведенного времени", 1053},
	{"서비스가 적절한 시간 내에 시작 또는 제어 요청에 응답하지 않았습니다", 1053},
	// 1069 ERROR_SERVICE_LOGON_FAILED
	{"Служба не запущена из-за ошибки входа в систему", 1069},
	{"서비스가 로그온 실패로 인해 시작되지 않았습니다", 1069},
}

// CodeFromText finds the error code of a message that was already expanded
// into text, as Windows 2003 logs store it. It matches the en-US texts of
// the table and the localized conflict texts it knows.
func CodeFromText(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	t := textTables()
	// White space is folded: text exports and pasted Format-List output
	// wrap long messages.
	spaced := strings.Join(strings.Fields(s), " ")
	for _, code := range t.codes {
		info := win32Errors[code]
		if strings.HasPrefix(spaced, strings.TrimSuffix(info.Text, ".")) && !strings.Contains(info.Text, "%1") {
			return code, true
		}
	}
	folded := foldText(s)
	for i, l := range localizedTexts {
		if strings.Contains(folded, t.fragments[i]) {
			return l.code, true
		}
	}
	return 0, false
}

// foldText is a text as CodeFromText compares it: lower case, quotes and
// apostrophes folded (foldRendered), white space runs as one space.
func foldText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(foldRendered(s))), " ")
}

// textTables are CodeFromText's tables, built once: the codes of
// win32Errors in order, and localizedTexts' fragments folded.
var textTables = sync.OnceValue(func() (t struct {
	codes     []uint32
	fragments []string
}) {
	for code := range win32Errors {
		t.codes = append(t.codes, code)
	}
	slices.Sort(t.codes)
	for _, l := range localizedTexts {
		t.fragments = append(t.fragments, foldText(l.fragment))
	}
	return t
})

// FormatCode renders a code for people: 10048 (WSAEADDRINUSE) or 0xC000020A.
func FormatCode(code uint32) string {
	info, ok := LookupError(code)
	switch {
	case code >= 0x80000000 && ok:
		return fmt.Sprintf("0x%08X (%s)", code, info.Symbol)
	case code >= 0x80000000:
		return fmt.Sprintf("0x%08X", code)
	case ok:
		return fmt.Sprintf("%d (%s)", code, info.Symbol)
	}
	return strconv.FormatUint(uint64(code), 10)
}
