package correlate

import (
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// TestRenderedSCM decodes rendered SCM messages, as text exports carry
// them, in each language: the service name and the error come back, and
// the class moves with the error text.
func TestRenderedSCM(t *testing.T) {
	tests := []struct {
		name      string
		id        uint16
		msg       string
		service   string
		code      uint32
		hasError  bool
		class     ErrorClass
		decodedOK bool
	}{
		{"en_7000_10048", 7000, "The IAS service failed to start due to the following error: \r\nOnly one usage of each socket address (protocol/network address/port) is normally permitted.", "IAS", 10048, true, ClassPortConflict, true},
		{"en_7000_1058", 7000, "The Fax service failed to start due to the following error: \r\nThe service cannot be started, either because it is disabled or because it has no enabled devices associated with it.", "Fax", 1058, true, ClassNotPort, true},
		{"de_7023_10048", 7023, "Der Dienst \"BlackBerry Router\" wurde mit folgendem Fehler beendet: \nNormalerweise darf jede Socketadresse (Protokoll, Netzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden.", "BlackBerry Router", 10048, true, ClassPortConflict, true},
		{"de_7000_1053", 7000, "Der Dienst SQL Server-Launchpad wurde aufgrund folgenden Fehlers nicht gestartet: Der Dienst antwortete nicht rechtzeitig auf die Start- oder Steuerungsanforderung.", "SQL Server-Launchpad", 1053, true, ClassPossiblyPort, true},
		{"fr_7023_10013", 7023, "Le service Serveur NPS s’est arrêté avec l’erreur suivante : \nUne tentative d’accès à un socket de manière interdite par ses autorisations d’accès a été tentée.", "Serveur NPS", 10013, true, ClassPortConflict, true},
		{"fr_7000_10048", 7000, "Le service Apache2.4 n’a pas pu démarrer en raison de l’erreur : \nUne seule utilisation de chaque adresse de socket (protocole/adresse réseau/port) est habituellement autorisée.", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"es_7000_10048", 7000, "El servicio Apache2.4 no pudo iniciarse debido al siguiente error: \nSolo se permite un uso de cada dirección de socket (protocolo/dirección de red/puerto)", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"it_7000_10048", 7000, "Impossibile avviare il servizio Apache2.4 a causa del seguente errore: \nDi norma è consentito un solo utilizzo di ogni indirizzo di socket (protocollo/indirizzo di rete/porta).", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"pt_7000_10048", 7000, "O serviço Apache2.4 falhou ao iniciar devido ao seguinte erro: \nNormalmente é permitida apenas uma utilização de cada endereço de soquete (protocolo/endereço de rede/porta).", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"nl_7023_10048", 7023, "De service IAS is beëindigd met de volgende fout: \nElk socketadres (protocol/netwerkadres/poort) kan normaal slechts één keer worden gebruikt.", "IAS", 10048, true, ClassPortConflict, true},
		{"ru_7023_10048", 7023, "Служба \"IAS\" завершена из-за ошибки: \nОбычно разрешается только одно использование адреса сокета (протокол/сетевой адрес/порт).", "IAS", 10048, true, ClassPortConflict, true},
		{"pl_7000_10048", 7000, "Usługa Apache2.4 nie może zostać uruchomiona z powodu następującego błędu: \nTylko jedno użycie każdego adresu gniazda (protokół/adres sieciowy/port) jest normalnie dozwolone.", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"ja_7000_10048", 7000, "Apache2.4 サービスを、次のエラーが原因で開始できませんでした: \n通常、各ソケット アドレスに対してプロトコル、ネットワーク アドレス、またはポートのどれか 1 つのみを使用できます。", "Apache2.4", 10048, true, ClassPortConflict, true},
		{"zh_7000_1053", 7000, "由于下列错误，WslService 服务启动失败: \n服务没有及时响应启动或控制请求。", "WslService", 1053, true, ClassPossiblyPort, true},
		{"zh_7023_10013", 7023, "IAS 服务因下列错误而停止: \n以一种访问权限不允许的方式做了一个访问套接字的尝试。", "IAS", 10013, true, ClassPortConflict, true},
		{"ko_7023_10048", 7023, "IAS 서비스가 다음 오류 때문에 종료되었습니다. \n각 소켓 주소(프로토콜/네트워크 주소/포트)는 하나만 사용할 수 있습니다.", "IAS", 10048, true, ClassPortConflict, true},
		{"ko_7023_10013", 7023, "IAS 서비스가 다음 오류 때문에 종료되었습니다. \n액세스 권한에 의해 숨겨진 소켓에 액세스를 시도했습니다.", "IAS", 10013, true, ClassPortConflict, true},
		{"en_format_list_wrapped", 7023, "The BlackBerry Router service terminated with the following error:\nOnly one usage of each socket address (protocol/network address/port) is normally\npermitted.", "BlackBerry Router", 10048, true, ClassPortConflict, true},
		{"de_format_list_wrapped", 7023, "Der Dienst \"IAS\" wurde mit folgendem Fehler beendet:\nNormalerweise darf jede Socketadresse (Protokoll,\nNetzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden.", "IAS", 10048, true, ClassPortConflict, true},
		{"ru_7000_1053", 7000, "Не удалось запустить службу \"Панель запуска SQL Server (MSSQLSERVER)\" из-за следующей ошибки: \nСлужба не ответила на запрос запуска или управления в течение отведенного времени.", "Панель запуска SQL Server (MSSQLSERVER)", 1053, true, ClassPossiblyPort, true},
		{"ko_7000_1053", 7000, "다음 오류 때문에 SQL Server 실행 패드 서비스를 시작하지 못했습니다. \n서비스가 적절한 시간 내에 시작 또는 제어 요청에 응답하지 않았습니다.", "SQL Server 실행 패드", 1053, true, ClassPossiblyPort, true},
		{"ko_7000_1069", 7000, "다음 오류 때문에 ADSync 서비스를 시작하지 못했습니다. \n서비스가 로그온 실패로 인해 시작되지 않았습니다.", "ADSync", 1069, true, ClassNotPort, true},
		{"ja_7023_access_denied_unknown", 7023, "KDC Proxy Server service (KPS) サービスは、次のエラーで終了しました: \nアクセスが拒否されました。", "KDC Proxy Server service (KPS)", 0, false, ClassUnknown, true},
		{"unknown_error_text", 7023, "The IAS service terminated with the following error: \nSomething no table knows.", "IAS", 0, false, ClassUnknown, true},
		{"es_7009_service_is_second", 7009, "Se agotó el tiempo de espera (30000 ms) para la conexión con el servicio Mercury32.", "Mercury32", 0, false, ClassPossiblyPort, true},
		{"de_7031_rest_ignored", 7031, "Der Dienst \"IAS\" wurde unerwartet beendet. Dies ist bereits 1 Mal passiert. Folgende Korrekturmaßnahme wird in 60000 Millisekunden durchgeführt: Neustart des Diensts.", "IAS", 0, false, ClassPossiblyPort, true},
		{"no_template_matches", 7000, "Quelque chose d'autre.", "", 0, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &parsers.Event{Provider: scmProvider, EventID: tt.id, Time: time.Unix(1e9, 0).UTC(), Message: tt.msg}
			f, ok := DecodeFailure(ev)
			if ok != tt.decodedOK {
				t.Fatalf("decoded %v, want %v (%+v)", ok, tt.decodedOK, f)
			}
			if !ok {
				return
			}
			if f.Service != tt.service || f.ErrorCode != tt.code || f.HasError != tt.hasError || f.Class != tt.class {
				t.Errorf("got service %q code %d/%v class %s, want %q %d/%v %s", f.Service, f.ErrorCode, f.HasError, f.Class,
					tt.service, tt.code, tt.hasError, tt.class)
			}
			if len(ev.Data) != 0 {
				t.Error("DecodeFailure changed the event")
			}
		})
	}
}

// TestResolveLocalTimes: an export's local time moves with the host's
// offset, and without one it is unknown, never taken for UTC.
func TestResolveLocalTimes(t *testing.T) {
	wall := time.Date(2026, 3, 2, 9, 1, 30, 0, time.UTC)
	in := Input{Failures: []FailureRef{{TimeLocal: true, Failure: Failure{Time: wall}}, {Failure: Failure{Time: wall}}},
		Boots: []BootRef{{TimeLocal: true, Boot: BootMarker{Time: wall, BootTime: wall}}}}
	for _, tt := range []struct {
		name   string
		off    time.Duration
		has    bool
		want   time.Time
		wantUT time.Time
	}{
		{"utc_plus_1", time.Hour, true, wall.Add(-time.Hour), wall},
		{"utc_minus_6", -6 * time.Hour, true, wall.Add(6 * time.Hour), wall},
		{"zone_unknown", 0, false, time.Time{}, wall},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in.UTCOffset, in.HasUTCOffset = tt.off, tt.has
			out := resolveLocalTimes(in)
			if got := out.Failures[0].Failure.Time; !got.Equal(tt.want) {
				t.Errorf("local failure at %v, want %v", got, tt.want)
			}
			if got := out.Failures[1].Failure.Time; !got.Equal(tt.wantUT) {
				t.Errorf("UTC failure moved to %v", got)
			}
			if got := out.Boots[0].Boot.BootTime; !got.Equal(tt.want) {
				t.Errorf("boot at %v, want %v", got, tt.want)
			}
			if !in.Failures[0].Failure.Time.Equal(wall) {
				t.Error("input changed")
			}
		})
	}
}
