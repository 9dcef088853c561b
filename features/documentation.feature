Feature: Accessing Deployment and Installation Documentation
  A newcomer follows DEPLOYMENT.md to deploy the services and the README to install the desktop
  app on Windows. Every command the documents tell them to type must exist as written.

  Scenario: Accessing Deployment and Installation Documentation
    Given the project repository
    When a user accesses DEPLOYMENT.md and the user-facing installation instructions
    Then DEPLOYMENT.md has the sections "Prerequisites", "Build the images", "Deploy", "logs", "Update" and "Back up and restore"
    And every invoke command in the documentation is a task that accepts the flags shown
    And every deploy environment named in DEPLOYMENT.md exists in deploy/environments
    And every repository path the documents name exists
    And ARCHITECTURE.md names every module under build_scripts/, and only modules that exist
