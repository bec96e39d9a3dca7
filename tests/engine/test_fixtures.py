"""Every third-party BPMN file either deploys or is refused with a clear message.

The files in ``../shared/fixtures/bpmn`` were written by other people and tools
(the BPMN MIWG suite, Camunda 7's examples, Camunda Modeler's own fixtures).
Each is deployed alone into a fresh database, with the Camunda Forms of its
example project. The table records the outcome per file: ``"deploys"``, or the
element and the start of the message it is refused with. An unhandled
exception fails the test whatever the table says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.composition import Engine
from engine.errors import DeploymentRejected

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bpmn"
# Files written by others are an extra run where they lie beside the repository
# (as in CI), not a condition for the project's own tests.
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"the third-party BPMN files are not at {FIXTURES}")

EXPECTED: dict[str, str | tuple[str | None, str]] = {
    'camunda7/camunda-bpm-examples/bpmn-model-api/parse-bpmn/src/test/resources/process.bpmn':
        ('scriptTask', "script format 'groovy' is not supported: write the script in Python (s"),
    'camunda7/camunda-bpm-examples/clients/java/order-handling/order-handling.bpmn':
        ('StartEvent_1', "cron expression '0/5 0/1 * 1/1 * ?' is not supported: write an ISO 860"),
    'camunda7/camunda-bpm-examples/deployment/ejb-pa-jakarta/src/main/resources/EjbExpressionResolvingTest.testResolveBean.bpmn':
        ('servicetask1', 'uses Java (camunda:delegateExpression="${exampleBean}"); sertiflow run'),
    'camunda7/camunda-bpm-examples/deployment/embedded-spring-rest/src/main/resources/loanApproval.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:delegateExpression="${calculateInterestService}"); '),
    'camunda7/camunda-bpm-examples/deployment/servlet-pa/src/main/resources/exampleProcess.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.platform.example.servlet.Exa'),
    'camunda7/camunda-bpm-examples/deployment/spring-servlet-pa-tomcat/src/main/resources/SpringExpressionResolvingTest.testResolveBean.bpmn':
        ('servicetask1', "camunda:expression does not compile: the method call 'exampleBean.invo"),
    'camunda7/camunda-bpm-examples/deployment/spring-servlet-pa-tomcat/src/main/resources/SpringExpressionResolvingTest.testResolveBeanFromJobExecutor.bpmn':
        ('servicetask1', 'uses Java (camunda:delegateExpression="${exampleDelegateBean}"); serti'),
    'camunda7/camunda-bpm-examples/deployment/spring-servlet-pa-wildfly/src/main/resources/SpringExpressionResolvingTest.testResolveBean.bpmn':
        ('servicetask1', "camunda:expression does not compile: the method call 'exampleBean.invo"),
    'camunda7/camunda-bpm-examples/deployment/spring-servlet-pa-wildfly/src/main/resources/SpringExpressionResolvingTest.testResolveBeanFromJobExecutor.bpmn':
        ('servicetask1', 'uses Java (camunda:delegateExpression="${exampleDelegateBean}"); serti'),
    'camunda7/camunda-bpm-examples/migration/migrate-on-deployment/src/main/resources/exampleProcess.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/multi-tenancy/schema-isolation/src/main/resources/processes/tenant1/tenant1_process.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/multi-tenancy/schema-isolation/src/main/resources/processes/tenant2/tenant2_process.bpmn':
        ('ServiceTask_0pwqvlr', 'uses Java (camunda:delegateExpression="#{simpleServiceTask}"); sertifl'),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-embedded/src/main/resources/processes/tenant1/tenant1_process.bpmn':
        ('ServiceTask_0dsnjuy', 'uses Java (camunda:class="org.camunda.bpm.tutorial.multitenancy.Tenant'),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-embedded/src/main/resources/processes/tenant2/tenant2_process.bpmn':
        ('ServiceTask_0dsnjuy', 'uses Java (camunda:class="org.camunda.bpm.tutorial.multitenancy.Tenant'),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-shared/src/main/resources/processes/tenant1/tenant1_process.bpmn':
        ('ServiceTask_0dsnjuy', 'uses Java (camunda:class="org.camunda.bpm.tutorial.multitenancy.Tenant'),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-shared/src/main/resources/processes/tenant2/tenant2_process.bpmn':
        ('ServiceTask_0dsnjuy', 'uses Java (camunda:class="org.camunda.bpm.tutorial.multitenancy.Tenant'),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-shared-definitions/src/main/resources/processes/default/mainProcess.bpmn':
        ('CallActivity_0ahffuc', "calls process 'subProcess', which is neither in this deployment nor de"),
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-shared-definitions/src/main/resources/processes/default/subProcess.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/multi-tenancy/tenant-identifier-shared-definitions/src/main/resources/processes/tenant2/subProcess.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/process-engine-plugin/bpmn-parse-listener/src/main/resources/bpmnParseListener.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.delegate.ServiceTask'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/bpmn-parse-listener/src/main/resources/bpmnParseListenerOnUserTask.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/process-engine-plugin/custom-history-level/src/main/resources/process-history-activity.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.CreateVariablesDeleg'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/custom-history-level/src/main/resources/process-history-custom-variable.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.CreateVariablesDeleg'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/custom-history-level/src/main/resources/process-history-full.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.CreateVariablesDeleg'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/custom-history-level/src/main/resources/process-history-none.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.CreateVariablesDeleg'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/custom-history-level/src/main/resources/process.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.CreateVariablesDeleg'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/failed-job-retry-profile/src/main/resources/retry-example.bpmn':
        ('service-fetch-data', 'uses Java (camunda:class="org.camunda.bpm.example.delegate.ServiceTask'),
    'camunda7/camunda-bpm-examples/process-engine-plugin/handling-jpa-variables/src/test/resources/process.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/quarkus-extension/datasource-example/src/main/resources/bpmn/process.bpmn':
        ('Activity_148bip1', 'uses Java (camunda:delegateExpression="${approvalServiceDelegate}"); s'),
    'camunda7/camunda-bpm-examples/quarkus-extension/spin-plugin-example/src/main/resources/process.bpmn':
        ('Activity_0x1k9u4', 'uses Java (camunda:delegateExpression="${storeOrderItemService}"); ser'),
    'camunda7/camunda-bpm-examples/scripttask/xslt-scripttask/src/main/resources/xslt-example.bpmn':
        ('StartEvent_1', "script format 'groovy' is not supported: write the script in Python (s"),
    'camunda7/camunda-bpm-examples/servicetask/rest-service/src/main/resources/invokeRestService.bpmn':
        ('ServiceTask_1', 'Camunda connectors are not supported; sertiflow runs Python, not Java:'),
    'camunda7/camunda-bpm-examples/servicetask/service-invocation-asynchronous/src/main/resources/asynchronousServiceInvocation.bpmn':
        ('serviceTaskActivity', 'uses Java (camunda:class="org.camunda.quickstart.servicetask.invocatio'),
    'camunda7/camunda-bpm-examples/servicetask/service-invocation-synchronous/src/main/resources/synchronousServiceInvocation.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.quickstart.servicetask.invocatio'),
    'camunda7/camunda-bpm-examples/spin/dataformat-configuration-global/src/main/resources/testProcess.bpmn':
        ('ScriptTask_1', "script format 'javascript' is not supported: write the script in Pytho"),
    'camunda7/camunda-bpm-examples/spin/dataformat-configuration-in-process-application/src/main/resources/testProcess.bpmn':
        ('ScriptTask_1', "script format 'javascript' is not supported: write the script in Pytho"),
    'camunda7/camunda-bpm-examples/spring-boot-starter/example-simple/src/main/resources/bpmn/sample.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:delegateExpression="${sayHelloDelegate}"); sertiflo'),
    'camunda7/camunda-bpm-examples/spring-boot-starter/example-twitter/src/main/resources/TwitterDemoProcess.bpmn':
        ('service_task_send_rejection_notification', 'uses Java (camunda:delegateExpression="#{emailAdapter}"); sertiflow ru'),
    'camunda7/camunda-bpm-examples/spring-boot-starter/example-web/src/main/resources/bpmn/sample.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:delegateExpression="${sayHelloDelegate}"); sertiflo'),
    'camunda7/camunda-bpm-examples/spring-boot-starter/example-webapp/src/main/resources/bpmn/sample.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:delegateExpression="${sayHelloDelegate}"); sertiflo'),
    'camunda7/camunda-bpm-examples/spring-boot-starter/example-webapp-ee/src/main/resources/bpmn/sample.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/spring-boot-starter/external-task-client/loan-granting-spring-boot-webapp/src/main/resources/bpmn/loan-granting.bpmn':
        ('Task_1lvjtd4', "script format 'javascript' is not supported: write the script in Pytho"),
    'camunda7/camunda-bpm-examples/startevent/message-start/src/main/resources/instantiating_process.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="org.camunda.bpm.example.event.message.Instan'),
    'camunda7/camunda-bpm-examples/startevent/message-start/src/main/resources/message_start_process.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/testing/assert/job-announcement-publication-process/src/test/resources/camunda-testing-job-announcement-publication.bpmn':
        ('publish_announcement_website', "camunda:expression does not compile: the method call 'jobAnnouncementS"),
    'camunda7/camunda-bpm-examples/testing/assert/job-announcement-publication-process/src/test/resources/camunda-testing-job-announcement.bpmn':
        ('mail', "camunda:expression does not compile: the method call 'jobAnnouncementS"),
    'camunda7/camunda-bpm-examples/testing/junit5/camunda-bpm-junit-assert/src/test/resources/testProcess.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/testing/junit5/camunda-bpm-junit-use-engine/src/test/resources/testProcess.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/usertask/task-camunda-forms/src/main/resources/invoiceApproval.bpmn':
        'deploys',
    'camunda7/camunda-bpm-examples/usertask/task-form-embedded/src/main/resources/loanApproval.bpmn':
        ('StartEvent_1', "form key 'embedded:app:start-form.html' is an embedded or external for"),
    'camunda7/camunda-bpm-examples/usertask/task-form-embedded-bpmn-events/src/main/resources/invoicePayment.bpmn':
        ('StartEvent_1', "form key 'embedded:app:start-form.html' is an embedded or external for"),
    'camunda7/camunda-bpm-examples/usertask/task-form-embedded-json-variables/src/main/resources/process.bpmn':
        ('Task_0n2pfas', 'uses Java (camunda:class="org.camunda.bpm.example.JsonJavaDelegate"); '),
    'camunda7/camunda-bpm-examples/usertask/task-form-embedded-react/src/main/resources/react-example.bpmn':
        ('StartEvent_1', "form key 'embedded:app:start-form.html' is an embedded or external for"),
    'camunda7/camunda-bpm-examples/wildfly/jackson-annotations/src/main/resources/waitingState.bpmn':
        'deploys',
    'camunda7/camunda-modeler/app_lib_file-context_processors___tests___fixtures_camunda7.bpmn':
        'deploys',
    'camunda7/camunda-modeler/client_src_app_tabs___tests___EngineProfile.namespace.platform.bpmn':
        'deploys',
    'camunda7/camunda-modeler/client_src_app_tabs_bpmn___tests___activitiConverted.bpmn':
        ('Process_1', 'the process has no start event: draw one where the process begins'),
    'camunda7/camunda-modeler/client_src_app_tabs_bpmn_diagram.bpmn':
        (None, "does not match the BPMN 2.0 schema: Element '{http://www.omg.org/spec/"),
    'camunda7/camunda-modeler/client_src_plugins_camunda-plugin_start-instance-tool_util___tests___fixtures_executable.bpmn':
        ('Process_1lqq4vo', 'uses Java (class="asdas" on an execution listener); write an expressio'),
    'camunda7/camunda-modeler/client_src_plugins_camunda-plugin_start-instance-tool_util___tests___fixtures_not_executable.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'camunda7/camunda-modeler/resources_diagram_lint-errors.bpmn':
        ('Activity_1v4xdzk', 'service task has no implementation: set camunda:type="external" with a'),
    'camunda7/camunda-modeler/resources_diagram_xss.bpmn':
        (None, "does not match the BPMN 2.0 schema: Element '{http://www.omg.org/spec/"),
    'camunda7/camunda-modeler/resources_diagram_zeebe-camunda-mixed.bpmn':
        'deploys',
    'camunda7/camunda-modeler/test_e2e_fixtures_c7-no-httl.bpmn':
        'deploys',
    'camunda7/camunda-modeler/test_e2e_fixtures_c7-service-task-impl.bpmn':
        ('Task_1', 'uses Java (camunda:class="com.example.Check"); sertiflow runs Python, '),
    'camunda7/camunda-modeler/test_e2e_fixtures_c7-service-task.bpmn':
        ('ServiceTask_1', 'uses Java (camunda:class="com.example.Check"); sertiflow runs Python, '),
    'camunda7/camunda-modeler/test_e2e_fixtures_c7-user-task-form.bpmn':
        'deploys',
    'miwg/camunda-modeler-5.23/A.1.0-export.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.1.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.2.0-export.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.2.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.2.0-rountrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.2.1-export.bpmn':
        ('Flow_0zwjy3h', "this flow leaves an exclusive gateway without a condition and is not "),
    'miwg/camunda-modeler-5.23/A.2.1-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.3.0-export.bpmn':
        ('Event_1uez1gc', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/A.3.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.4.0-export.bpmn':
        'deploys',
    'miwg/camunda-modeler-5.23/A.4.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/A.4.1-export.bpmn':
        'deploys',
    'miwg/camunda-modeler-5.23/A.4.1-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/B.1.0-export.bpmn':
        ('Event_1qd5ifd', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/B.1.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/B.2.0-export.bpmn':
        ('Event_0403g4k', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/B.2.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.1.0-export.bpmn':
        ('StartEvent_1', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.1.0-roundtrip.bpmn':
        ('sid-36EA43D1-0FE6-4197-AC57-7A43785B784B', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.1.1-export.bpmn':
        ('Activity_1f1t5k9', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/camunda-modeler-5.23/C.1.1-roundtrip.bpmn':
        ('archiveInvoice', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/camunda-modeler-5.23/C.2.0-export.bpmn':
        ('Event_1k8uukf', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.2.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.3.0-export.bpmn':
        ('Event_0ad1gmz', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.3.0-roundtrip.bpmn':
        ('_c73a5f4a-72f1-4e11-bb40-2f98da75fb9a', 'startQuantity="2" is not supported: an activity starts and completes o'),
    'miwg/camunda-modeler-5.23/C.4.0-export.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.4.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.5.0-export.bpmn':
        ('Activity_10xe0k2', 'call activity names no called process (calledElement)'),
    'miwg/camunda-modeler-5.23/C.5.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.6.0-export.bpmn':
        ('StartEvent_1', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.6.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.7.0-export.bpmn':
        ('Activity_0rnylu0', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/camunda-modeler-5.23/C.7.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.8.0-export.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.8.0-roundtrip.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.8.1-export.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/camunda-modeler-5.23/C.8.1-roundtrip.bpmn':
        ('_2b960d84-feb1-46a9-a1a1-c300dd996b99', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/camunda-modeler-5.23/C.9.0-export.bpmn':
        ('Event_1mjnjdv', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.9.0-roundtrip.bpmn':
        ('EndMessageEvent_Timeout', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.9.1-export.bpmn':
        ('Activity_01qizhy', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/camunda-modeler-5.23/C.9.1-roundtrip.bpmn':
        ('SendTask_RequestDocument', "no handler is registered for topic 'emailService' (known: "),
    'miwg/camunda-modeler-5.23/C.9.2-export.bpmn':
        ('Event_0bc44ws', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/camunda-modeler-5.23/C.9.2-roundtrip.bpmn':
        ('SendTask_NotifyCustomerDelay', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/reference/A.1.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/A.2.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/A.2.1.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/A.3.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/A.4.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/A.4.1.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/B.1.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/B.2.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.1.0.bpmn':
        ('sid-36EA43D1-0FE6-4197-AC57-7A43785B784B', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/reference/C.1.1.bpmn':
        ('archiveInvoice', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/reference/C.2.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.3.0.bpmn':
        ('_c73a5f4a-72f1-4e11-bb40-2f98da75fb9a', 'startQuantity="2" is not supported: an activity starts and completes o'),
    'miwg/reference/C.4.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.5.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.6.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.7.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.8.0.bpmn':
        (None, 'no executable process: tick "Executable" on the process in Camunda Mod'),
    'miwg/reference/C.8.1.bpmn':
        ('_2b960d84-feb1-46a9-a1a1-c300dd996b99', 'service task has no implementation: set camunda:type="external" with a'),
    'miwg/reference/C.9.0.bpmn':
        ('EndMessageEvent_Timeout', "message event without a message: pick or create one in the Modeler's M"),
    'miwg/reference/C.9.1.bpmn':
        ('SendTask_RequestDocument', "no handler is registered for topic 'emailService' (known: "),
    'miwg/reference/C.9.2.bpmn':
        ('SendTask_NotifyCustomerDelay', 'service task has no implementation: set camunda:type="external" with a'),
}


def test_every_fixture_file_is_listed() -> None:
    found = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.bpmn")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_fixture_outcome(engine: Engine, relative: str) -> None:
    path = FIXTURES / relative
    files = [(path.name, path.read_bytes())]
    files += [(f.name, f.read_bytes()) for f in sorted(path.parent.parent.rglob("*.form"))]
    expected = EXPECTED[relative]
    try:
        with engine.write() as services:
            services.deployments.deploy(files)
    except DeploymentRejected as exc:
        first = exc.problems[0]
        assert first.file == path.name
        assert first.line is not None or first.element is not None
        assert (first.element, first.message[: len(expected[1])]) == expected
    else:
        assert expected == "deploys"
